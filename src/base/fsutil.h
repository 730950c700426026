/* fsutil.h — the one file-system step every durable write in tribune shares: making a directory's
 * entries (a create, rename or unlink inside it) durable. */
#ifndef TRIBUNE_BASE_FSUTIL_H
#define TRIBUNE_BASE_FSUTIL_H

/* fsyncs the directory dir. 0, or -1 with errno kept from the failing call. */
int fs_fsync_dir(const char *dir);

#endif
