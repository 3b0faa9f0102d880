CREATE TABLE t (a text DEFAULT $x$ open);
CREATE TABLE "u (b int);
