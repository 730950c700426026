/* keygen.c — `tribune keygen`: 16 random bytes from the kernel's CSPRNG, base64 encoded (24
 * characters), the gossip encryption key format Consul uses. */
#include "cli/cli.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

static const char usage[] = "Usage: tribune keygen\n\n"
                            "  Generates a new encryption key that can be used to configure the\n"
                            "  agent to encrypt traffic. The output of this command is already\n"
                            "  in the proper format that the agent expects.\n";

/* Standard alphabet with padding: 16 bytes -> 24 characters. out needs 4*ceil(n/3)+1 bytes. */
static void base64(const unsigned char *in, size_t n, char *out)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = tbl[v >> 18 & 63];
        out[o++] = tbl[v >> 12 & 63];
        out[o++] = i + 1 < n ? tbl[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? tbl[v & 63] : '=';
    }
    out[o] = '\0';
}

int cli_keygen(int argc, char **argv)
{
    int rc = cli_no_options(usage, argc, argv);
    if (rc >= 0)
        return rc;
    unsigned char key[16];
    size_t got = 0;
    while (got < sizeof key) {
        ssize_t n = getrandom(key + got, sizeof key - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fprintf(stderr, "Error reading random data: %s\n", strerror(errno));
            return 1;
        }
        got += (size_t)n;
    }
    char out[25];
    base64(key, sizeof key, out);
    puts(out);
    return 0;
}
