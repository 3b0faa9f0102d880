USE web;
SET hive.exec.dynamic.partition=true;
CREATE TABLE `web`.`people` (`id` INT, name CHAR(10), b BOOLEAN, bin BINARY, d DATE)
ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde'
WITH SERDEPROPERTIES ('separatorChar' = ',', 'quoteChar' = '"')
STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat';
CREATE TEMPORARY TABLE t2 LIKE web.people;
CREATE TABLE t3 STORED AS PARQUET AS SELECT id, name FROM web.people WHERE b;
CREATE TABLE t4 (a INT, PRIMARY KEY (a) DISABLE NOVALIDATE) STORED AS ORC;
CREATE VIEW v1 AS SELECT `id` FROM people -- comment
;
ALTER TABLE people ADD COLUMNS (c2 FLOAT COMMENT 'x');
MSCK REPAIR TABLE people;
