-- Session settings: SET, SHOW, RESET; empty statements.
SHOW server_version;
SHOW client_encoding;
SET application_name = 'golden';
SHOW application_name;
SET extra_float_digits TO 3;
SHOW extra_float_digits;
RESET extra_float_digits;
;
SELECT 1;
-- is_superuser follows the router's --superuser (talus); it cannot be set.
SHOW is_superuser;
SET is_superuser = on;
