ALTER TABLE app.orders ADD CONSTRAINT orders_uk UNIQUE (status, note) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE app.orders MODIFY (note VARCHAR2(800 CHAR) NOT NULL);
ALTER TABLE app.orders ADD (extra FLOAT(63), ts TIMESTAMP(9), iv INTERVAL DAY(3) TO SECOND(6));
COMMENT ON TABLE app.orders IS 'Orders, one per ''checkout''';
COMMENT ON COLUMN app.orders.total IS 'Gross';
CREATE UNIQUE INDEX app.orders_ix ON app.orders (UPPER(status), placed_at DESC) TABLESPACE idx;
CREATE BITMAP INDEX app.orders_bx ON app.orders (status) LOCAL;
CREATE OR REPLACE FORCE VIEW app.v (a, b) AS
  SELECT o.order_id, NVL(c.name, 'x') FROM app.orders o, app.customers c
  WHERE o.customer_id = c.customer_id (+) AND ROWNUM < 10;
CREATE MATERIALIZED VIEW app.mv BUILD IMMEDIATE REFRESH FAST ON COMMIT AS SELECT * FROM app.orders;
GRANT SELECT ON app.orders TO reporting;
INSERT INTO app.orders (order_id) VALUES (1);
DROP TABLE app.old PURGE;
