-- run-time parameters through current_setting(), set_config() and pg_settings
SELECT current_setting('DateStyle'), current_setting('search_path');
SELECT current_setting('nope');
SELECT current_setting('nope', true) IS NULL AS missing;
SELECT set_config('application_name', 'guc_test', false);
SHOW application_name;
SELECT setting, source FROM pg_settings WHERE name = 'application_name';
SELECT name, setting FROM pg_settings WHERE name IN ('TimeZone', 'standard_conforming_strings') ORDER BY name;
SELECT set_config('server_version', '1', false);
SHOW max_identifier_length;
