-- The source of the mariadb-to-pg scenario: the web shop of pg-to-pg in MySQL types (ENUM,
-- UNSIGNED, DATETIME(6), JSON, BLOB...), 1,625,200 rows generated on the server. Every value is a
-- function of the row number, so counts and checksums are the same on every run and machine.
-- Loaded by scenarios/replicate/run.sh into a fresh database (MariaDB 10.11 or MySQL 8).

SET time_zone = '+00:00';

-- Row numbers 1..1,000,000 from a digits table (MySQL 8 has no sequence engine, and a temporary
-- table can't be joined with itself); both are dropped at the end.
CREATE TABLE _digits (d INT PRIMARY KEY);
INSERT INTO _digits VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9);
CREATE TABLE _seq (n INT PRIMARY KEY);
INSERT INTO _seq
SELECT 1 + a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d + 100000 * g.d
FROM _digits a, _digits b, _digits c, _digits e, _digits f, _digits g;

-- 20,000 customers: Unicode names, NULL vs empty notes, a column the mapping removes.
CREATE TABLE customers (
    id            INT           NOT NULL PRIMARY KEY,
    email         VARCHAR(120)  NOT NULL UNIQUE,
    full_name     VARCHAR(80)   NOT NULL,
    country       CHAR(2)       NOT NULL,
    password_hash BINARY(16)    NOT NULL,         -- removed by mappings.json (remove-column)
    credit_limit  DECIMAL(12,2),
    is_active     BOOLEAN       NOT NULL,
    created_at    TIMESTAMP(6)  NOT NULL,
    notes         TEXT                            -- NULL, '' and text
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO customers
SELECT n,
       CONCAT('customer', n, '@example.com'),
       CONCAT(ELT(1 + n % 8, 'Zoë', 'José', 'Łukasz', 'Aoife', 'Nguyễn', '美咲', 'Ahmed', 'O''Brien'), ' ',
              ELT(1 + n % 7, 'Müller', 'García', 'Kowalski', 'Ní Bhriain', 'Trần', '佐藤', 'Haddad')),
       ELT(1 + n % 8, 'DE', 'ES', 'PL', 'IE', 'VN', 'JP', 'EG', 'US'),
       UNHEX(MD5(CONCAT('pw', n))),
       IF(n % 10 = 0, NULL, ROUND((n % 5000) * 10.25, 2)),
       n % 13 <> 0,
       TIMESTAMP '2019-01-01 00:00:00' + INTERVAL n * 4023123457 MICROSECOND,
       CASE n % 5 WHEN 0 THEN NULL WHEN 1 THEN '' ELSE CONCAT('prefers e-mail; ticket #', n) END
FROM _seq WHERE n <= 20000;

-- 5,000 products: JSON attributes, binary thumbnails, floats, dates.
CREATE TABLE products (
    id          INT UNSIGNED  NOT NULL PRIMARY KEY,
    sku         VARCHAR(20)   NOT NULL UNIQUE,
    name        VARCHAR(200)  NOT NULL,
    price       DECIMAL(10,2) NOT NULL,
    weight_kg   FLOAT,
    attributes  JSON,
    thumbnail   BLOB,
    launched_on DATE          NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO products
SELECT n,
       CONCAT('SKU-', LPAD(n, 6, '0')),
       CONCAT(ELT(1 + n % 6, 'Kettle', 'Desk lamp', 'Rucksack', 'Tee', 'Café au lait mug', 'Ψ-socks'), ' #', n),
       ROUND(0.99 + (n % 997) * 1.37, 2),
       IF(n % 17 = 0, NULL, (n % 2000) / 97.0),
       -- Kept as written by MariaDB: keys out of jsonb's order (jsonb: shorter first), numbers
       -- that jsonb writes as given. Validation compares both in JSON_NORMALIZE's form.
       JSON_OBJECT('colour', ELT(1 + n % 4, 'red', 'green', 'blue', 'ñandú'),
                   'sizes', JSON_ARRAY('S', 'M', 'L'), 'stock', n % 40,
                   'rating', (n % 50) / 10, 'volume_m3', IF(n % 7 = 0, 1.5e-4, n * 1e3)),
       IF(n % 3 = 0, NULL, UNHEX(REPEAT(MD5(CONCAT('img', n)), 8))),
       DATE '2015-03-01' + INTERVAL n % 3000 DAY
FROM _seq WHERE n <= 5000;

-- 200,000 orders; every fifth is cancelled.
CREATE TABLE orders (
    id          BIGINT        NOT NULL PRIMARY KEY,
    customer_id INT           NOT NULL,
    status      ENUM('new', 'paid', 'shipped', 'delivered', 'cancelled') NOT NULL,
    total       DECIMAL(14,2) NOT NULL,
    currency    CHAR(3)       NOT NULL,
    ordered_at  DATETIME(6)   NOT NULL,
    shipped_on  DATE,
    KEY orders_customer (customer_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO orders
SELECT n,
       1 + (n * 7919) % 20000,
       ELT(1 + n % 5, 'new', 'paid', 'shipped', 'delivered', 'cancelled'),
       ROUND((n % 100000) * 0.37 + 5, 2),
       ELT(1 + n % 4, 'EUR', 'USD', 'PLN', 'JPY'),
       TIMESTAMP '2020-01-01 00:00:00' + INTERVAL n * 377000001 MICROSECOND,
       IF(n % 5 IN (2, 3), DATE '2020-01-02' + INTERVAL n DIV 230 DAY, NULL)
FROM _seq WHERE n <= 200000;

-- 1,000,000 order lines, five per order: the big table, split into several chunks.
CREATE TABLE order_items (
    order_id   BIGINT            NOT NULL,
    line_no    TINYINT UNSIGNED  NOT NULL,
    product_id INT               NOT NULL,
    quantity   SMALLINT UNSIGNED NOT NULL,
    unit_price DECIMAL(10,2)     NOT NULL,
    discount   DOUBLE,
    PRIMARY KEY (order_id, line_no)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO order_items
SELECT 1 + (n - 1) DIV 5,
       1 + (n - 1) % 5,
       1 + (n * 31) % 5000,
       1 + n % 9,
       ROUND(0.99 + (n % 997) * 1.37, 2),
       IF(n % 4 = 0, NULL, (n % 30) / 100.0)
FROM _seq;

-- 400,000 page views: no primary key, and 1,000 rows duplicated exactly (as such tables have).
-- Every tenth view is a health check, which the mapping's filter leaves behind.
CREATE TABLE clickstream (
    viewed_at   TIMESTAMP(3)  NOT NULL,
    session_id  CHAR(36)      NOT NULL,
    path        VARCHAR(255)  NOT NULL,
    referrer    VARCHAR(255),
    duration_ms INT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO clickstream
SELECT TIMESTAMP '2024-01-01 00:00:00' + INTERVAL n * 1500000 MICROSECOND,
       INSERT(INSERT(INSERT(INSERT(MD5(CONCAT('session', n DIV 7)), 21, 0, '-'), 17, 0, '-'), 13, 0, '-'), 9, 0, '-'),
       IF(n % 10 = 0, '/health', CONCAT('/products/', 1 + n % 5000)),
       IF(n % 3 = 0, NULL, CONCAT('https://search.example/?q=', n % 100)),
       IF(n % 11 = 0, NULL, n % 30000)
FROM _seq WHERE n <= 399000;
INSERT INTO clickstream
SELECT * FROM clickstream WHERE duration_ms BETWEEN 1 AND 1000 AND path <> '/health' LIMIT 1000;

-- Leftovers of an old import, which the mapping excludes (rule `tmp[_]%`).
CREATE TABLE tmp_orders (id INT NOT NULL PRIMARY KEY, raw TEXT) ENGINE=InnoDB;
INSERT INTO tmp_orders SELECT n, CONCAT('row ', n) FROM _seq WHERE n <= 100;
CREATE TABLE tmp_customers (id INT NOT NULL PRIMARY KEY, raw TEXT) ENGINE=InnoDB;
INSERT INTO tmp_customers SELECT n, CONCAT('row ', n) FROM _seq WHERE n <= 100;

DROP TABLE _seq, _digits;
ANALYZE TABLE customers, products, orders, order_items, clickstream;
