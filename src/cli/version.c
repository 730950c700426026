/* version.c — `tribune version`: the release and the wire protocol versions this build speaks,
 * taken from the codecs themselves so the output can never drift from what goes on the wire. */
#include "cli/cli.h"

#include "gossip/wire.h"
#include "raft/wire.h"

static const char usage[] = "Usage: tribune version\n\n"
                            "  Prints the Tribune version and the protocol versions it speaks.\n";

int cli_version(int argc, char **argv)
{
    int rc = cli_no_options(usage, argc, argv);
    if (rc >= 0)
        return rc;
    printf("Tribune v%s\n", TRIBUNE_VERSION);
    printf("Raft Protocol: %d (Understands back to: %d)\n", RAFT_WIRE_VERSION_MAX,
           RAFT_WIRE_VERSION_MIN);
    printf("Gossip Protocol: %d (Understands back to: %d)\n", GOSSIP_WIRE_VERSION,
           GOSSIP_WIRE_VERSION_MIN);
    return 0;
}
