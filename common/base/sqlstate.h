/* sqlstate — every SQLSTATE Talus reports, named once.
 *
 * A client sees a failure as a PostgreSQL error whose SQLSTATE it may act
 * on (retry on 40001, report 23505 as a duplicate): the codes are part of
 * the protocol Talus speaks, so a code below never changes meaning and a
 * call site never spells one as a literal. Names are PostgreSQL's own
 * (src/backend/utils/errcodes.txt): TL_SQLSTATE_<name> is ERRCODE_<name>,
 * and the condition name is errcodes.txt's spec_name (PL/pgSQL's name for
 * the condition).
 *
 * Each code is a macro that expands to its string literal, so it serves as
 * a `const char *` argument (tl_error_set()), in a static initialiser and
 * in literal concatenation alike. TL_SQLSTATE_MAP lists every code once,
 * with its condition name, in errcodes.txt's order of classes; a new code
 * takes a #define here and a row in the map (a row without its #define
 * fails to compile; tests/unit/test_sqlstate.c checks the map holds no code
 * or name twice).
 *
 * Invariants: every code is five characters of [0-9A-Z]; no two names
 * share a code. */
#ifndef TL_SQLSTATE_H
#define TL_SQLSTATE_H

/* Class 00 - Successful Completion */
#define TL_SQLSTATE_SUCCESSFUL_COMPLETION "00000"
/* Class 01 - Warning */
#define TL_SQLSTATE_WARNING "01000"
/* Class 08 - Connection Exception */
#define TL_SQLSTATE_CONNECTION_FAILURE "08006"
#define TL_SQLSTATE_TRANSACTION_RESOLUTION_UNKNOWN "08007"
#define TL_SQLSTATE_PROTOCOL_VIOLATION "08P01"
/* Class 0A - Feature Not Supported */
#define TL_SQLSTATE_FEATURE_NOT_SUPPORTED "0A000"
/* Class 22 - Data Exception */
#define TL_SQLSTATE_STRING_DATA_RIGHT_TRUNCATION "22001"
#define TL_SQLSTATE_NUMERIC_VALUE_OUT_OF_RANGE "22003"
#define TL_SQLSTATE_INVALID_DATETIME_FORMAT "22007"
#define TL_SQLSTATE_DATETIME_FIELD_OVERFLOW "22008"
#define TL_SQLSTATE_INVALID_TIME_ZONE_DISPLACEMENT_VALUE "22009"
#define TL_SQLSTATE_NULL_VALUE_NOT_ALLOWED "22004"
#define TL_SQLSTATE_DIVISION_BY_ZERO "22012"
#define TL_SQLSTATE_INVALID_PRECEDING_OR_FOLLOWING_SIZE "22013"
#define TL_SQLSTATE_INVALID_ARGUMENT_FOR_NTILE_FUNCTION "22014"
#define TL_SQLSTATE_INTERVAL_FIELD_OVERFLOW "22015"
#define TL_SQLSTATE_INVALID_ARGUMENT_FOR_NTH_VALUE_FUNCTION "22016"
#define TL_SQLSTATE_CHARACTER_NOT_IN_REPERTOIRE "22021"
#define TL_SQLSTATE_INVALID_PARAMETER_VALUE "22023"
#define TL_SQLSTATE_INVALID_ESCAPE_SEQUENCE "22025"
#define TL_SQLSTATE_INVALID_REGULAR_EXPRESSION "2201B"
#define TL_SQLSTATE_INVALID_ARGUMENT_FOR_LOGARITHM "2201E"
#define TL_SQLSTATE_INVALID_ARGUMENT_FOR_POWER_FUNCTION "2201F"
#define TL_SQLSTATE_INVALID_ARGUMENT_FOR_WIDTH_BUCKET_FUNCTION "2201G"
#define TL_SQLSTATE_SUBSTRING_ERROR "22011"
#define TL_SQLSTATE_CARDINALITY_VIOLATION "21000"
#define TL_SQLSTATE_INVALID_ROW_COUNT_IN_LIMIT_CLAUSE "2201W"
#define TL_SQLSTATE_INVALID_ROW_COUNT_IN_RESULT_OFFSET_CLAUSE "2201X"
#define TL_SQLSTATE_INVALID_TEXT_REPRESENTATION "22P02"
#define TL_SQLSTATE_INVALID_BINARY_REPRESENTATION "22P03"
#define TL_SQLSTATE_BAD_COPY_FILE_FORMAT "22P04"
#define TL_SQLSTATE_UNTRANSLATABLE_CHARACTER "22P05"
#define TL_SQLSTATE_SEQUENCE_GENERATOR_LIMIT_EXCEEDED "2200H"
/* Class 23 - Integrity Constraint Violation */
#define TL_SQLSTATE_NOT_NULL_VIOLATION "23502"
#define TL_SQLSTATE_UNIQUE_VIOLATION "23505"
/* Class 2B - Dependent Privilege Descriptors Still Exist */
#define TL_SQLSTATE_DEPENDENT_OBJECTS_STILL_EXIST "2BP01"
/* Class 26 - Invalid SQL Statement Name */
#define TL_SQLSTATE_INVALID_SQL_STATEMENT_NAME "26000"
/* Class 25 - Invalid Transaction State */
#define TL_SQLSTATE_ACTIVE_SQL_TRANSACTION "25001"
#define TL_SQLSTATE_READ_ONLY_SQL_TRANSACTION "25006"
#define TL_SQLSTATE_NO_ACTIVE_SQL_TRANSACTION "25P01"
#define TL_SQLSTATE_IN_FAILED_SQL_TRANSACTION "25P02"
#define TL_SQLSTATE_IDLE_IN_TRANSACTION_SESSION_TIMEOUT "25P03"
/* Class 28 - Invalid Authorization Specification */
#define TL_SQLSTATE_INVALID_AUTHORIZATION_SPECIFICATION "28000"
#define TL_SQLSTATE_INVALID_PASSWORD "28P01"
/* Class 34 - Invalid Cursor Name */
#define TL_SQLSTATE_INVALID_CURSOR_NAME "34000"
/* Class 3B - Savepoint Exception */
#define TL_SQLSTATE_INVALID_SAVEPOINT_SPECIFICATION "3B001"
/* Class 3F - Invalid Schema Name */
#define TL_SQLSTATE_INVALID_SCHEMA_NAME "3F000"
/* Class 40 - Transaction Rollback */
#define TL_SQLSTATE_T_R_SERIALIZATION_FAILURE "40001"
#define TL_SQLSTATE_DEADLOCK_DETECTED "40P01"
/* Class 42 - Syntax Error or Access Rule Violation */
#define TL_SQLSTATE_SYNTAX_ERROR "42601"
#define TL_SQLSTATE_INSUFFICIENT_PRIVILEGE "42501"
#define TL_SQLSTATE_RESERVED_NAME "42939"
#define TL_SQLSTATE_CANNOT_COERCE "42846"
#define TL_SQLSTATE_GROUPING_ERROR "42803"
#define TL_SQLSTATE_WINDOWING_ERROR "42P20"
#define TL_SQLSTATE_DATATYPE_MISMATCH "42804"
#define TL_SQLSTATE_WRONG_OBJECT_TYPE "42809"
#define TL_SQLSTATE_UNDEFINED_COLUMN "42703"
#define TL_SQLSTATE_UNDEFINED_FUNCTION "42883"
#define TL_SQLSTATE_UNDEFINED_TABLE "42P01"
#define TL_SQLSTATE_UNDEFINED_PARAMETER "42P02"
#define TL_SQLSTATE_UNDEFINED_OBJECT "42704"
#define TL_SQLSTATE_DUPLICATE_COLUMN "42701"
#define TL_SQLSTATE_DUPLICATE_TABLE "42P07"
#define TL_SQLSTATE_DUPLICATE_CURSOR "42P03"
#define TL_SQLSTATE_DUPLICATE_PREPARED_STATEMENT "42P05"
#define TL_SQLSTATE_DUPLICATE_ALIAS "42712"
#define TL_SQLSTATE_DUPLICATE_OBJECT "42710"
#define TL_SQLSTATE_AMBIGUOUS_COLUMN "42702"
#define TL_SQLSTATE_AMBIGUOUS_FUNCTION "42725"
#define TL_SQLSTATE_INVALID_COLUMN_REFERENCE "42P10"
#define TL_SQLSTATE_INVALID_TABLE_DEFINITION "42P16"
#define TL_SQLSTATE_INDETERMINATE_DATATYPE "42P18"
#define TL_SQLSTATE_INVALID_RECURSION "42P19"
#define TL_SQLSTATE_GENERATED_ALWAYS "428C9"
/* Class 53 - Insufficient Resources */
#define TL_SQLSTATE_OUT_OF_MEMORY "53200"
#define TL_SQLSTATE_TOO_MANY_CONNECTIONS "53300"
/* Class 54 - Program Limit Exceeded */
#define TL_SQLSTATE_PROGRAM_LIMIT_EXCEEDED "54000"
#define TL_SQLSTATE_STATEMENT_TOO_COMPLEX "54001"
#define TL_SQLSTATE_TOO_MANY_COLUMNS "54011"
#define TL_SQLSTATE_TOO_MANY_ARGUMENTS "54023"
/* Class 55 - Object Not In Prerequisite State */
#define TL_SQLSTATE_CANT_CHANGE_RUNTIME_PARAM "55P02"
#define TL_SQLSTATE_OBJECT_NOT_IN_PREREQUISITE_STATE "55000"
#define TL_SQLSTATE_OBJECT_IN_USE "55006"
#define TL_SQLSTATE_LOCK_NOT_AVAILABLE "55P03"
/* Class 57 - Operator Intervention */
#define TL_SQLSTATE_QUERY_CANCELED "57014"
#define TL_SQLSTATE_ADMIN_SHUTDOWN "57P01"
/* Class 58 - System Error (errors external to PostgreSQL itself) */
#define TL_SQLSTATE_IO_ERROR "58030"
/* Class 72 - Snapshot Failure */
#define TL_SQLSTATE_SNAPSHOT_TOO_OLD "72000"
/* Class XX - Internal Error */
#define TL_SQLSTATE_INTERNAL_ERROR "XX000"
#define TL_SQLSTATE_DATA_CORRUPTED "XX001"

/* name (TL_SQLSTATE_<name> is its code), condition name. */
#define TL_SQLSTATE_MAP(X)                                                     \
    X(SUCCESSFUL_COMPLETION, "successful_completion")                          \
    X(WARNING, "warning")                                                      \
    X(CONNECTION_FAILURE, "connection_failure")                                \
    X(TRANSACTION_RESOLUTION_UNKNOWN, "transaction_resolution_unknown")        \
    X(PROTOCOL_VIOLATION, "protocol_violation")                                \
    X(FEATURE_NOT_SUPPORTED, "feature_not_supported")                          \
    X(STRING_DATA_RIGHT_TRUNCATION, "string_data_right_truncation")            \
    X(NUMERIC_VALUE_OUT_OF_RANGE, "numeric_value_out_of_range")                \
    X(INVALID_DATETIME_FORMAT, "invalid_datetime_format")                      \
    X(DATETIME_FIELD_OVERFLOW, "datetime_field_overflow")                      \
    X(INVALID_TIME_ZONE_DISPLACEMENT_VALUE,                                    \
      "invalid_time_zone_displacement_value")                                  \
    X(NULL_VALUE_NOT_ALLOWED, "null_value_not_allowed")                        \
    X(DIVISION_BY_ZERO, "division_by_zero")                                    \
    X(INVALID_PRECEDING_OR_FOLLOWING_SIZE,                                     \
      "invalid_preceding_or_following_size")                                   \
    X(INVALID_ARGUMENT_FOR_NTILE_FUNCTION,                                     \
      "invalid_argument_for_ntile_function")                                   \
    X(INVALID_ARGUMENT_FOR_NTH_VALUE_FUNCTION,                                 \
      "invalid_argument_for_nth_value_function")                               \
    X(CHARACTER_NOT_IN_REPERTOIRE, "character_not_in_repertoire")              \
    X(INVALID_PARAMETER_VALUE, "invalid_parameter_value")                      \
    X(INVALID_ESCAPE_SEQUENCE, "invalid_escape_sequence")                      \
    X(INVALID_REGULAR_EXPRESSION, "invalid_regular_expression")                \
    X(INVALID_ARGUMENT_FOR_LOGARITHM, "invalid_argument_for_logarithm")        \
    X(INVALID_ARGUMENT_FOR_POWER_FUNCTION,                                     \
      "invalid_argument_for_power_function")                                   \
    X(INVALID_ARGUMENT_FOR_WIDTH_BUCKET_FUNCTION,                              \
      "invalid_argument_for_width_bucket_function")                            \
    X(SUBSTRING_ERROR, "substring_error")                                      \
    X(CARDINALITY_VIOLATION, "cardinality_violation")                          \
    X(INVALID_ROW_COUNT_IN_LIMIT_CLAUSE, "invalid_row_count_in_limit_clause")  \
    X(INVALID_ROW_COUNT_IN_RESULT_OFFSET_CLAUSE,                               \
      "invalid_row_count_in_result_offset_clause")                             \
    X(INVALID_TEXT_REPRESENTATION, "invalid_text_representation")              \
    X(INVALID_BINARY_REPRESENTATION, "invalid_binary_representation")          \
    X(BAD_COPY_FILE_FORMAT, "bad_copy_file_format")                            \
    X(UNTRANSLATABLE_CHARACTER, "untranslatable_character")                    \
    X(SEQUENCE_GENERATOR_LIMIT_EXCEEDED, "sequence_generator_limit_exceeded")  \
    X(NOT_NULL_VIOLATION, "not_null_violation")                                \
    X(UNIQUE_VIOLATION, "unique_violation")                                    \
    X(DEPENDENT_OBJECTS_STILL_EXIST, "dependent_objects_still_exist")          \
    X(INVALID_SQL_STATEMENT_NAME, "invalid_sql_statement_name")                \
    X(ACTIVE_SQL_TRANSACTION, "active_sql_transaction")                        \
    X(READ_ONLY_SQL_TRANSACTION, "read_only_sql_transaction")                  \
    X(NO_ACTIVE_SQL_TRANSACTION, "no_active_sql_transaction")                  \
    X(IN_FAILED_SQL_TRANSACTION, "in_failed_sql_transaction")                  \
    X(IDLE_IN_TRANSACTION_SESSION_TIMEOUT,                                     \
      "idle_in_transaction_session_timeout")                                   \
    X(INVALID_SAVEPOINT_SPECIFICATION, "invalid_savepoint_specification")      \
    X(INVALID_AUTHORIZATION_SPECIFICATION,                                     \
      "invalid_authorization_specification")                                   \
    X(INVALID_PASSWORD, "invalid_password")                                    \
    X(INVALID_CURSOR_NAME, "invalid_cursor_name")                              \
    X(INVALID_SCHEMA_NAME, "invalid_schema_name")                              \
    X(T_R_SERIALIZATION_FAILURE, "serialization_failure")                      \
    X(DEADLOCK_DETECTED, "deadlock_detected")                                  \
    X(SYNTAX_ERROR, "syntax_error")                                            \
    X(INSUFFICIENT_PRIVILEGE, "insufficient_privilege")                        \
    X(RESERVED_NAME, "reserved_name")                                          \
    X(CANNOT_COERCE, "cannot_coerce")                                          \
    X(GROUPING_ERROR, "grouping_error")                                        \
    X(WINDOWING_ERROR, "windowing_error")                                      \
    X(DATATYPE_MISMATCH, "datatype_mismatch")                                  \
    X(WRONG_OBJECT_TYPE, "wrong_object_type")                                  \
    X(UNDEFINED_COLUMN, "undefined_column")                                    \
    X(UNDEFINED_FUNCTION, "undefined_function")                                \
    X(UNDEFINED_TABLE, "undefined_table")                                      \
    X(UNDEFINED_PARAMETER, "undefined_parameter")                              \
    X(UNDEFINED_OBJECT, "undefined_object")                                    \
    X(DUPLICATE_COLUMN, "duplicate_column")                                    \
    X(DUPLICATE_TABLE, "duplicate_table")                                      \
    X(DUPLICATE_CURSOR, "duplicate_cursor")                                    \
    X(DUPLICATE_PREPARED_STATEMENT, "duplicate_prepared_statement")            \
    X(DUPLICATE_ALIAS, "duplicate_alias")                                      \
    X(DUPLICATE_OBJECT, "duplicate_object")                                    \
    X(AMBIGUOUS_COLUMN, "ambiguous_column")                                    \
    X(AMBIGUOUS_FUNCTION, "ambiguous_function")                                \
    X(INVALID_COLUMN_REFERENCE, "invalid_column_reference")                    \
    X(INVALID_TABLE_DEFINITION, "invalid_table_definition")                    \
    X(INDETERMINATE_DATATYPE, "indeterminate_datatype")                        \
    X(INVALID_RECURSION, "invalid_recursion")                                  \
    X(GENERATED_ALWAYS, "generated_always")                                    \
    X(OUT_OF_MEMORY, "out_of_memory")                                          \
    X(TOO_MANY_CONNECTIONS, "too_many_connections")                            \
    X(PROGRAM_LIMIT_EXCEEDED, "program_limit_exceeded")                        \
    X(STATEMENT_TOO_COMPLEX, "statement_too_complex")                          \
    X(TOO_MANY_COLUMNS, "too_many_columns")                                    \
    X(TOO_MANY_ARGUMENTS, "too_many_arguments")                                \
    X(CANT_CHANGE_RUNTIME_PARAM, "cant_change_runtime_param")                  \
    X(OBJECT_NOT_IN_PREREQUISITE_STATE, "object_not_in_prerequisite_state")    \
    X(OBJECT_IN_USE, "object_in_use")                                          \
    X(LOCK_NOT_AVAILABLE, "lock_not_available")                                \
    X(QUERY_CANCELED, "query_canceled")                                        \
    X(ADMIN_SHUTDOWN, "admin_shutdown")                                        \
    X(IO_ERROR, "io_error")                                                    \
    X(SNAPSHOT_TOO_OLD, "snapshot_too_old")                                    \
    X(INTERNAL_ERROR, "internal_error")                                        \
    X(DATA_CORRUPTED, "data_corrupted")

/** The condition name of SQLSTATE @code ("23505" -> "unique_violation"),
 * or NULL when @code (which may be NULL) is not in TL_SQLSTATE_MAP. The
 * result is a static string. Cannot fail. */
const char *tl_sqlstate_name(const char *code);

#endif
