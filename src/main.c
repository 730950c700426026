/* main.c — the command table: `tribune <command>` dispatches to src/cli/<command>.c.
 * Placeholder until the CLI skeleton lands. */
#include <stdio.h>

int main(void)
{
    puts("tribune " TRIBUNE_VERSION);
    return 0;
}
