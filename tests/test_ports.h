/* test_ports.h — listening ports for servers started by tests: every
 * listener of a test cluster (RPC, Raft, the router, the admin HTTP
 * planes of th_options.admin), a reference PostgreSQL and the Prometheus
 * of test_admin_prometheus take theirs from free_port(). */
#ifndef TALUS_TEST_PORTS_H
#define TALUS_TEST_PORTS_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Test servers listen below the kernel's ephemeral range (32768-60999 on
 * Linux), so no outgoing connection of any process can take a port between
 * the moment it is chosen and the moment a server binds it. Test processes
 * running in parallel never pick the same port: each port is reserved by an
 * flock on /tmp/talus-test-ports/PORT, held until the test process exits. */
#define PORT_LO 20000
#define PORT_HI 32000
#define PORT_LOCK_DIR "/tmp/talus-test-ports"

static inline bool
port_bindable(uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool ok;

    if (fd < 0)
        return false;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

/* The locked file's descriptor, or -1 if another process holds @port. */
static inline int
port_reserve(uint16_t port)
{
    char path[64];
    int fd;

    snprintf(path, sizeof(path), PORT_LOCK_DIR "/%u", (unsigned)port);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static inline uint16_t
free_port(void)
{
    static unsigned seed;
    if (seed == 0)
        seed = (unsigned)getpid() * 2654435761u ^ (unsigned)time(NULL);
    if (mkdir(PORT_LOCK_DIR, 0777) == 0)
        chmod(PORT_LOCK_DIR, 01777);
    for (int tries = 0; tries < 4096; tries++) {
        uint16_t port =
            (uint16_t)(PORT_LO + rand_r(&seed) % (PORT_HI - PORT_LO));
        int fd = port_reserve(port);
        if (fd < 0)
            continue;
        if (port_bindable(port))
            return port; /* fd stays open: the lock lives with the process */
        close(fd);
    }
    return 0;
}

#endif
