// pgjdbc over TLS with SCRAM-SHA-256, for tests/integration/test_security.c
// (run as a single-file program: java -cp postgresql.jar SecureTest.java):
// sslmode=verify-full against the test's CA, and a wrong password refused
// with 28P01. Environment: TALUS_PORT, TALUS_CA, TALUS_USER,
// TALUS_PASSWORD. Exits 1 on a failure.
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Properties;

public class SecureTest {
    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://localhost:" + System.getenv("TALUS_PORT") + "/talus";
        Properties p = new Properties();
        p.setProperty("user", System.getenv("TALUS_USER"));
        p.setProperty("password", System.getenv("TALUS_PASSWORD"));
        p.setProperty("sslmode", "verify-full");
        p.setProperty("sslrootcert", System.getenv("TALUS_CA"));
        try (Connection c = DriverManager.getConnection(url, p);
             ResultSet r = c.createStatement().executeQuery("SELECT current_user")) {
            r.next();
            if (!r.getString(1).equals(System.getenv("TALUS_USER"))) {
                System.out.println("FAIL jdbc current_user " + r.getString(1));
                System.exit(1);
            }
            System.out.println("ok jdbc verify-full");
        }
        p.setProperty("password", "wrong");
        try {
            DriverManager.getConnection(url, p).close();
            System.out.println("FAIL jdbc: a wrong password connected");
            System.exit(1);
        } catch (SQLException e) {
            if (!"28P01".equals(e.getSQLState())) {
                System.out.println("FAIL jdbc: " + e.getSQLState() + " " + e.getMessage());
                System.exit(1);
            }
            System.out.println("ok jdbc wrong password 28P01");
        }
    }
}
