-- Typical dashboard queries against the retail star.
SELECT s.store_name, SUM(f.amount)
  FROM retail.sales f JOIN retail.stores s ON f.store_id = s.store_id
 WHERE f.sold_at BETWEEN DATE '2025-01-01' AND DATE '2025-03-31'
 GROUP BY s.store_name;

SELECT p.category, SUM(f.quantity)
  FROM retail.sales f JOIN retail.products p ON f.product_id = p.product_id
 WHERE f.sold_at >= DATE '2025-01-01'
 GROUP BY p.category;

SELECT c.email, SUM(f.amount)
  FROM retail.sales f JOIN retail.customers c ON f.customer_id = c.customer_id
 WHERE f.sold_at >= DATE '2025-02-01'
 GROUP BY c.email;

SELECT c.full_name, COUNT(*)
  FROM retail.sales f JOIN retail.customers c ON f.customer_id = c.customer_id
 GROUP BY c.full_name;

SELECT p.title, s.region, SUM(f.amount)
  FROM retail.sales f
  JOIN retail.products p ON f.product_id = p.product_id
  JOIN retail.stores s ON f.store_id = s.store_id
 WHERE f.sold_at BETWEEN DATE '2025-03-01' AND DATE '2025-03-31'
 GROUP BY p.title, s.region;
