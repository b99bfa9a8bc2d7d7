/* JDBC (pgjdbc) cases of the client suite (tests/clients/README.md).
 *
 * The URL is pgjdbc's default, jdbc:postgresql://HOST:PORT/DB, with no
 * option that lowers what the driver asks of the server: it uses the
 * extended query protocol (named server-side statements after
 * prepareThreshold executions) and reads DatabaseMetaData from pg_catalog.
 * Build and run:
 *   javac -d OUT JdbcTest.java
 *   PGHOST=... PGPORT=... java -cp OUT:/usr/share/java/postgresql.jar \
 *       JdbcTest [case ...]
 * One line per case, `ok <case>` or `FAIL <case>: <reason>`; exit status 1
 * if any failed, 2 on an unknown case name. */
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

public class JdbcTest {
    static final int CASE_TIMEOUT_S = 30;

    static String env(String name, String dflt) {
        String v = System.getenv(name);
        return v == null || v.isEmpty() ? dflt : v;
    }

    static final String HOST = env("PGHOST", "127.0.0.1");
    static final String PORT = env("PGPORT", "5432");
    static final String USER = env("PGUSER", "postgres");
    static final String DB = env("PGDATABASE", USER);
    static final String URL = "jdbc:postgresql://" + HOST + ":" + PORT + "/" + DB;

    static int seq = 0;

    /* A table name no other case or concurrent run uses. */
    static String tableName(String prefix) {
        seq++;
        return "cl_jdbc_" + prefix + "_" + ProcessHandle.current().pid() + "_" + seq;
    }

    static Connection connect() throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", USER);
        /* Bounds on a server that does not answer, so a case fails rather
         * than hangs; they change nothing in what is sent. */
        p.setProperty("connectTimeout", "10");
        p.setProperty("socketTimeout", String.valueOf(CASE_TIMEOUT_S));
        return DriverManager.getConnection(URL, p);
    }

    static void check(boolean cond, String what) {
        if (!cond)
            throw new AssertionError(what);
    }

    static void checkEq(Object got, Object want, String what) {
        if (got == null ? want != null : !got.equals(want))
            throw new AssertionError(what + ": got " + got + ", want " + want);
    }

    interface Body {
        void run(Connection c, String t) throws Exception;
    }

    /* Run @body on a fresh connection with a fresh table (id int primary
     * key, name text, v bigint, plus @extra columns), dropped afterwards. */
    static void withTable(String prefix, String extra, Body body) throws Exception {
        try (Connection c = connect()) {
            String t = tableName(prefix);
            try (Statement s = c.createStatement()) {
                s.execute("CREATE TABLE " + t + " (id int PRIMARY KEY, name text, v bigint"
                          + extra + ")");
            }
            Throwable failure = null;
            try {
                body.run(c, t);
            } catch (Exception | AssertionError e) {
                failure = e;
            }
            /* A DROP that fails after the case failed must not hide why. */
            try (Statement s = c.createStatement()) {
                s.execute("DROP TABLE " + t);
            } catch (SQLException e) {
                if (failure == null)
                    throw e;
            }
            if (failure instanceof Exception)
                throw (Exception)failure;
            if (failure != null)
                throw (AssertionError)failure;
        }
    }

    /* Statement: executeUpdate counts, executeQuery values and nulls,
     * an error with its SQLSTATE after which the connection still works. */
    static void statement() throws Exception {
        withTable("statement", "", (c, t) -> {
            try (Statement s = c.createStatement()) {
                checkEq(s.executeUpdate("INSERT INTO " + t
                                        + " (id, name, v) VALUES (1, 'one', 10), (2, NULL, NULL)"),
                        2, "insert count");
                try (ResultSet rs = s.executeQuery("SELECT id, name, v FROM " + t + " ORDER BY id")) {
                    checkEq(rs.getMetaData().getColumnName(2), "name", "column name");
                    check(rs.next(), "row 1");
                    checkEq(rs.getInt(1), 1, "id");
                    checkEq(rs.getString("name"), "one", "name");
                    checkEq(rs.getLong(3), 10L, "v");
                    check(rs.next(), "row 2");
                    checkEq(rs.getString(2), null, "null name");
                    rs.getLong(3);
                    check(rs.wasNull(), "null v");
                    check(!rs.next(), "two rows");
                }
                checkEq(s.executeUpdate("UPDATE " + t + " SET v = 5 WHERE id = 2"), 1, "update count");
                try {
                    s.executeUpdate("INSERT INTO " + t + " (id) VALUES (1)");
                    throw new AssertionError("duplicate key accepted");
                } catch (SQLException e) {
                    checkEq(e.getSQLState(), "23505", "sqlstate");
                }
                try (ResultSet rs = s.executeQuery("SELECT sum(v) FROM " + t)) {
                    check(rs.next(), "sum row");
                    checkEq(rs.getLong(1), 15L, "sum after error");
                }
            }
        });
    }

    /* PreparedStatement with setInt/setString/setLong/setNull/
     * setTimestamp/setBigDecimal, executed past prepareThreshold (5) so the
     * driver switches to a named server-side statement. */
    static void prepared() throws Exception {
        withTable("prepared", ", at timestamp, amount numeric(12,2)", (c, t) -> {
            Timestamp base = Timestamp.valueOf("2024-01-02 03:04:05.123456");
            try (PreparedStatement ps =
                     c.prepareStatement("INSERT INTO " + t + " (id, name, v, at, amount) VALUES (?, ?, ?, ?, ?)")) {
                for (int i = 1; i <= 8; i++) {
                    ps.setInt(1, i);
                    ps.setString(2, i == 3 ? "it's \"3\"" : "n" + i);
                    if (i == 4)
                        ps.setNull(3, Types.BIGINT);
                    else
                        ps.setLong(3, 1L << (30 + i));
                    ps.setTimestamp(4, new Timestamp(base.getTime() + i * 1000L));
                    ps.setBigDecimal(5, new BigDecimal(i + "123.45"));
                    checkEq(ps.executeUpdate(), 1, "insert count " + i);
                }
            }
            try (PreparedStatement ps =
                     c.prepareStatement("SELECT name, v, at, amount FROM " + t + " WHERE id = ?")) {
                for (int i = 1; i <= 8; i++) {
                    ps.setInt(1, i);
                    try (ResultSet rs = ps.executeQuery()) {
                        check(rs.next(), "row " + i);
                        checkEq(rs.getString(1), i == 3 ? "it's \"3\"" : "n" + i, "name " + i);
                        long v = rs.getLong(2);
                        if (i == 4)
                            check(rs.wasNull(), "null v");
                        else
                            checkEq(v, 1L << (30 + i), "v " + i);
                        checkEq(rs.getTimestamp(3), new Timestamp(base.getTime() + i * 1000L), "at " + i);
                        checkEq(rs.getBigDecimal(4), new BigDecimal(i + "123.45"), "amount " + i);
                        check(!rs.next(), "one row " + i);
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT id FROM " + t + " WHERE name = ?")) {
                ps.setString(1, "it's \"3\"");
                try (ResultSet rs = ps.executeQuery()) {
                    check(rs.next(), "string parameter matches");
                    checkEq(rs.getInt(1), 3, "id by name");
                }
            }
        });
    }

    /* executeBatch of a PreparedStatement and of a Statement. */
    static void batch() throws Exception {
        withTable("batch", "", (c, t) -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + t + " (id, name, v) VALUES (?, ?, ?)")) {
                for (int i = 0; i < 50; i++) {
                    ps.setInt(1, i);
                    ps.setString(2, "b" + i);
                    ps.setLong(3, i);
                    ps.addBatch();
                }
                int[] counts = ps.executeBatch();
                checkEq(counts.length, 50, "batch results");
                for (int n : counts)
                    check(n == 1 || n == Statement.SUCCESS_NO_INFO, "batch count " + n);
            }
            try (Statement s = c.createStatement()) {
                s.addBatch("UPDATE " + t + " SET v = v * 2 WHERE id < 10");
                s.addBatch("DELETE FROM " + t + " WHERE id >= 40");
                int[] counts = s.executeBatch();
                checkEq(Arrays.toString(counts), "[10, 10]", "statement batch counts");
                try (ResultSet rs = s.executeQuery("SELECT count(*), sum(v) FROM " + t)) {
                    check(rs.next(), "aggregate row");
                    checkEq(rs.getLong(1), 40L, "count");
                    checkEq(rs.getLong(2), 825L, "sum");
                }
            }
        });
    }

    /* DatabaseMetaData getTables/getColumns/getPrimaryKeys/getIndexInfo. */
    static void metadata() throws Exception {
        withTable("metadata", "", (c, t) -> {
            DatabaseMetaData md = c.getMetaData();
            List<String> tables = new ArrayList<>();
            try (ResultSet rs = md.getTables(null, null, t, new String[] {"TABLE"})) {
                while (rs.next()) {
                    tables.add(rs.getString("TABLE_NAME"));
                    checkEq(rs.getString("TABLE_TYPE"), "TABLE", "table type");
                }
            }
            checkEq(tables, List.of(t), "getTables");
            Map<String, String> cols = new LinkedHashMap<>();
            try (ResultSet rs = md.getColumns(null, null, t, "%")) {
                while (rs.next()) {
                    cols.put(rs.getString("COLUMN_NAME"),
                             rs.getString("TYPE_NAME") + "/" + rs.getInt("DATA_TYPE") + "/"
                                 + rs.getString("IS_NULLABLE") + "/" + rs.getInt("ORDINAL_POSITION"));
                }
            }
            checkEq(cols.toString(),
                    "{id=int4/" + Types.INTEGER + "/NO/1, name=text/" + Types.VARCHAR + "/YES/2, v=int8/"
                        + Types.BIGINT + "/YES/3}",
                    "getColumns");
            List<String> pk = new ArrayList<>();
            try (ResultSet rs = md.getPrimaryKeys(null, null, t)) {
                while (rs.next())
                    pk.add(rs.getString("COLUMN_NAME") + "/" + rs.getInt("KEY_SEQ"));
            }
            checkEq(pk, List.of("id/1"), "getPrimaryKeys");
            List<String> idx = new ArrayList<>();
            try (ResultSet rs = md.getIndexInfo(null, null, t, false, false)) {
                while (rs.next())
                    idx.add(rs.getString("INDEX_NAME") + "/" + rs.getString("COLUMN_NAME") + "/"
                            + rs.getBoolean("NON_UNIQUE") + "/" + rs.getInt("ORDINAL_POSITION"));
            }
            checkEq(idx, List.of(t + "_pkey/id/false/1"), "getIndexInfo");
        });
    }

    /* setAutoCommit(false): rollback() undoes the statements since the
     * last commit, commit() keeps them; another connection sees only
     * committed rows. */
    static void transactions() throws Exception {
        withTable("transactions", "", (c, t) -> {
            try (Connection o = connect();
                 Statement s = c.createStatement();
                 Statement so = o.createStatement()) {
                c.setAutoCommit(false);
                s.executeUpdate("INSERT INTO " + t + " VALUES (1, 'a', 1), (2, 'b', 2)");
                try (ResultSet rs = so.executeQuery("SELECT count(*) FROM " + t)) {
                    check(rs.next(), "a row");
                    checkEq(rs.getLong(1), 0L, "uncommitted rows not seen");
                }
                c.rollback();
                try (PreparedStatement p = c.prepareStatement(
                         "INSERT INTO " + t + " VALUES (?, ?, ?)")) {
                    p.setInt(1, 3);
                    p.setString(2, "c");
                    p.setLong(3, 3);
                    checkEq(p.executeUpdate(), 1, "insert count");
                }
                c.commit();
                c.setAutoCommit(true);
                try (ResultSet rs = so.executeQuery("SELECT id FROM " + t)) {
                    check(rs.next(), "a row");
                    checkEq(rs.getInt(1), 3, "committed row");
                    check(!rs.next(), "only the committed row");
                }
            }
        });
    }

    interface Case {
        void run() throws Exception;
    }

    public static void main(String[] args) {
        Map<String, Case> cases = new LinkedHashMap<>();
        cases.put("statement", JdbcTest::statement);
        cases.put("prepared", JdbcTest::prepared);
        cases.put("batch", JdbcTest::batch);
        cases.put("metadata", JdbcTest::metadata);
        cases.put("transactions", JdbcTest::transactions);
        DriverManager.setLoginTimeout(10);

        List<String> names = args.length > 0 ? Arrays.asList(args) : new ArrayList<>(cases.keySet());
        int failed = 0;
        for (String name : names) {
            Case k = cases.get(name);
            if (k == null) {
                System.out.println("FAIL " + name + ": no such case");
                System.exit(2);
            }
            try {
                k.run();
                System.out.println("ok " + name);
            } catch (Throwable e) {
                failed++;
                String why = e.getClass().getSimpleName() + ": " + e.getMessage();
                if (e instanceof SQLException)
                    why = ((SQLException)e).getSQLState() + " " + why;
                System.out.println("FAIL " + name + ": " + why.replaceAll("\\s+", " "));
                if (System.getenv("CLIENTS_TRACEBACK") != null)
                    e.printStackTrace();
            }
            System.out.flush();
        }
        System.exit(failed > 0 ? 1 : 0);
    }
}
