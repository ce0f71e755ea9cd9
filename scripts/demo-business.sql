-- The demo business of scripts/run-local: a salon in Moscow with three services, two specialists
-- and their working hours, so that a newcomer books in its bot at once. Once: a second run finds
-- it by its bot's username and changes nothing. psql variables: bot_id, username, owner. Prints
-- the tenant's id.
\set ON_ERROR_STOP on
SELECT coalesce((SELECT id FROM tenants WHERE bot_username = :'username' AND status <> 'removed'), 0) AS tenant \gset
SELECT :tenant = 0 AS missing \gset
\if :missing
BEGIN;
SELECT id AS tenant FROM tenant_add('Demo Salon', :owner, :bot_id, :'username', 'Europe/Moscow', 'run-local') \gset
SELECT 1 AS done FROM tenant_set_status(:tenant, 'active', 'run-local', 'demo') \gset
SELECT 1 AS done FROM tenant_extend(:tenant, 365, 'run-local:demo', 'run-local') \gset
UPDATE booking_profiles SET about = 'Haircuts, colouring and manicure in the city centre, since 2015.',
       address = 'Tverskaya St. 1, Moscow', phone = '+7 495 123-45-67', latitude = 55.757, longitude = 37.615
WHERE tenant_id = :tenant;
INSERT INTO booking_services (tenant_id, name, description, duration_min, buffer_min, price_minor, position) VALUES
        (:tenant, 'Haircut', 'Wash, cut and styling.', 60, 10, 150000, 1),
        (:tenant, 'Colouring', 'One tone, with care.', 120, 15, 450000, 2),
        (:tenant, 'Manicure', 'Classic, with a coat.', 45, 0, 120000, 3);
INSERT INTO booking_staff (tenant_id, name, position) VALUES (:tenant, 'Anna', 1), (:tenant, 'Olga', 2);
INSERT INTO booking_staff_services
SELECT :tenant, st.id, s.id FROM booking_staff st JOIN booking_services s ON s.tenant_id = st.tenant_id
WHERE st.tenant_id = :tenant AND (st.name, s.name) IN (('Anna', 'Haircut'), ('Anna', 'Colouring'),
                                                       ('Olga', 'Haircut'), ('Olga', 'Manicure'));
-- Anna: weekdays 10–14 and 15–19 (lunch between); Olga: Tuesday to Saturday 11–20.
INSERT INTO booking_hours
SELECT :tenant, st.id, d, h::timerange FROM booking_staff st, generate_series(1, 5) d,
       unnest(ARRAY['[10:00,14:00)', '[15:00,19:00)']) h
WHERE st.tenant_id = :tenant AND st.name = 'Anna';
INSERT INTO booking_hours
SELECT :tenant, st.id, d, '[11:00,20:00)' FROM booking_staff st, generate_series(2, 6) d
WHERE st.tenant_id = :tenant AND st.name = 'Olga';
COMMIT;
\endif
SELECT :tenant;
