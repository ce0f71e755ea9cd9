-- A user may cancel their pending order (a second purchase is refused while one is open). The
-- value is added alone: PostgreSQL uses a new enum value only once its transaction committed.
ALTER TYPE order_status ADD VALUE 'cancelled' AFTER 'failed';
