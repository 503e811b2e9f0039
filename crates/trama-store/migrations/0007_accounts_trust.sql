-- Trust, the penetration test's lower findings: the demo's auditor changes nothing.

-- The demo's auditor also held the citizen role, and so could post needs and offers: an
-- auditor reads and changes nothing.
DELETE FROM role_grants WHERE role = 'citizen' AND user_id IN (
    SELECT id FROM users WHERE email = 'revisore@demo.trama.it'
);
