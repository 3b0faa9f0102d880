CREATE TABLE t (a INT COMMENT "open);
/* never closed
CREATE TABLE u (b INT);
