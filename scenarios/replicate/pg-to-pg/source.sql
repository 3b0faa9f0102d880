-- The source of the pg-to-pg scenario: a small web shop in schema `shop`, 1,625,200 rows
-- generated on the server. Every value is a function of the row number (no random()), so row
-- counts, filtered counts and checksums are the same on every run and machine.
-- Loaded by scenarios/replicate/run.sh into a fresh database; safe to run only there.

\set ON_ERROR_STOP on
SET client_min_messages = warning;
CREATE SCHEMA shop;

-- 20,000 customers: Unicode names, NULL vs empty notes, a column the mapping removes.
CREATE TABLE shop.customers (
    id            integer PRIMARY KEY,
    email         varchar(120) NOT NULL UNIQUE,
    full_name     varchar(80)  NOT NULL,
    country       char(2)      NOT NULL,
    password_hash bytea        NOT NULL,           -- removed by mappings.json (remove-column)
    credit_limit  numeric(12,2),
    is_active     boolean      NOT NULL,
    created_at    timestamptz  NOT NULL,
    notes         text                             -- NULL, '' and text
);
INSERT INTO shop.customers
SELECT g,
       'customer' || g || '@example.com',
       (ARRAY['Zoë', 'José', 'Łukasz', 'Aoife', 'Nguyễn', '美咲', 'Ahmed', 'O''Brien'])[1 + g % 8]
           || ' ' || (ARRAY['Müller', 'García', 'Kowalski', 'Ní Bhriain', 'Trần', '佐藤', 'Haddad'])[1 + g % 7],
       (ARRAY['DE', 'ES', 'PL', 'IE', 'VN', 'JP', 'EG', 'US'])[1 + g % 8],
       decode(md5('pw' || g), 'hex'),
       CASE WHEN g % 10 = 0 THEN NULL ELSE round((g % 5000) * 10.25, 2) END,
       g % 13 <> 0,
       timestamptz '2019-01-01 00:00:00+00' + g * interval '1 hour 7 minutes 3.123457 seconds',
       CASE g % 5 WHEN 0 THEN NULL WHEN 1 THEN '' ELSE 'prefers e-mail; ticket #' || g END
FROM generate_series(1, 20000) g;

-- 5,000 products: JSON attributes, binary thumbnails, floats, dates.
CREATE TABLE shop.products (
    id          integer PRIMARY KEY,
    sku         varchar(20)   NOT NULL UNIQUE,
    name        text          NOT NULL,
    price       numeric(10,2) NOT NULL,
    weight_kg   real,
    attributes  jsonb,
    thumbnail   bytea,
    launched_on date          NOT NULL
);
INSERT INTO shop.products
SELECT g,
       'SKU-' || lpad(g::text, 6, '0'),
       (ARRAY['Kettle', 'Desk lamp', 'Rucksack', 'Tee', 'Café au lait mug', 'Ψ-socks'])[1 + g % 6] || ' #' || g,
       round(0.99 + (g % 997) * 1.37, 2),
       CASE WHEN g % 17 = 0 THEN NULL ELSE (g % 2000) / 97.0 END,
       jsonb_build_object('colour', (ARRAY['red', 'green', 'blue', 'ñandú'])[1 + g % 4],
                          'sizes', jsonb_build_array('S', 'M', 'L'), 'stock', g % 40),
       CASE WHEN g % 3 = 0 THEN NULL ELSE decode(repeat(md5('img' || g), 8), 'hex') END,
       date '2015-03-01' + (g % 3000)
FROM generate_series(1, 5000) g;

-- 200,000 orders; every fifth is cancelled.
CREATE TABLE shop.orders (
    id          bigint        PRIMARY KEY,
    customer_id integer       NOT NULL,
    status      varchar(12)   NOT NULL,
    total       numeric(14,2) NOT NULL,
    currency    char(3)       NOT NULL,
    ordered_at  timestamp(6)  NOT NULL,
    shipped_on  date
);
INSERT INTO shop.orders
SELECT g,
       1 + (g * 7919) % 20000,
       (ARRAY['new', 'paid', 'shipped', 'delivered', 'cancelled'])[1 + g % 5],
       round((g % 100000) * 0.37 + 5, 2),
       (ARRAY['EUR', 'USD', 'PLN', 'JPY'])[1 + g % 4],
       timestamp '2020-01-01 00:00:00' + g * interval '6 minutes 17.000001 seconds',
       CASE WHEN g % 5 IN (2, 3) THEN date '2020-01-02' + (g / 230) END
FROM generate_series(1, 200000) g;

-- 1,000,000 order lines, five per order: the big table, split into several chunks.
CREATE TABLE shop.order_items (
    order_id   bigint        NOT NULL,
    line_no    smallint      NOT NULL,
    product_id integer       NOT NULL,
    quantity   integer       NOT NULL,
    unit_price numeric(10,2) NOT NULL,
    discount   double precision,
    PRIMARY KEY (order_id, line_no)
);
INSERT INTO shop.order_items
SELECT 1 + (g - 1) / 5,
       1 + (g - 1) % 5,
       1 + (g * 31) % 5000,
       1 + g % 9,
       round(0.99 + (g % 997) * 1.37, 2),
       CASE WHEN g % 4 = 0 THEN NULL ELSE (g % 30) / 100.0 END
FROM generate_series(1, 1000000) g;

-- 400,000 page views: no primary key, and 1,000 rows duplicated exactly (as such tables have).
-- Every tenth view is a health check, which the mapping's filter leaves behind.
CREATE TABLE shop.clickstream (
    viewed_at   timestamptz NOT NULL,
    session_id  uuid        NOT NULL,
    path        text        NOT NULL,
    referrer    text,
    duration_ms integer
);
INSERT INTO shop.clickstream
SELECT timestamptz '2024-01-01 00:00:00+00' + g * interval '1.5 seconds',
       md5('session' || (g / 7))::uuid,
       CASE WHEN g % 10 = 0 THEN '/health' ELSE '/products/' || (1 + g % 5000) END,
       CASE WHEN g % 3 = 0 THEN NULL ELSE 'https://search.example/?q=' || (g % 100) END,
       CASE WHEN g % 11 = 0 THEN NULL ELSE g % 30000 END
FROM generate_series(1, 399000) g;
INSERT INTO shop.clickstream SELECT * FROM shop.clickstream WHERE duration_ms BETWEEN 1 AND 1000 AND path <> '/health' LIMIT 1000;

-- Leftovers of an old import, which the mapping excludes (rule `tmp[_]%`).
CREATE TABLE shop.tmp_orders (id integer PRIMARY KEY, raw text);
INSERT INTO shop.tmp_orders SELECT g, 'row ' || g FROM generate_series(1, 100) g;
CREATE TABLE shop.tmp_customers (id integer PRIMARY KEY, raw text);
INSERT INTO shop.tmp_customers SELECT g, 'row ' || g FROM generate_series(1, 100) g;

ANALYZE;
