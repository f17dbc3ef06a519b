-- Support desk (contract 0.2): who handles an order, and since when its
-- customer awaits a reply (derived from the events by orders.Order.Apply,
-- kept here so that the waiting list is one indexed query).
ALTER TABLE orders ADD COLUMN assignee TEXT;
ALTER TABLE orders ADD COLUMN awaiting_since TEXT; -- UTC text, as every time here

-- Orders stored before: the first customer message after the last support one.
UPDATE orders SET awaiting_since = (
    SELECT MIN(c.at) FROM events c
    WHERE c.order_id = orders.id AND c.type = 'order:message' AND c.from_role = 'customer'
      AND c.seq > COALESCE((SELECT MAX(s.seq) FROM events s
          WHERE s.order_id = orders.id AND s.type = 'order:message' AND s.from_role = 'support'), 0));

CREATE INDEX orders_awaiting ON orders (awaiting_since, pos) WHERE awaiting_since IS NOT NULL;
