/* fsutil.c — directory fsync: a rename or unlink is durable only once its directory is synced, so
 * every atomic replace (temp, fsync, rename, fsync dir) ends here. */
#include "base/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int fs_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}
