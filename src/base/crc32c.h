/* crc32c.h — CRC-32C (Castagnoli), the checksum of every log record and wire frame.
 * Chosen over CRC-32 for its better error detection on storage and its hardware support. */
#ifndef TRIBUNE_BASE_CRC32C_H
#define TRIBUNE_BASE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extends crc (0 to start) over len bytes of data. crc32c(0, "123456789", 9) == 0xe3069283. */
uint32_t crc32c(uint32_t crc, const void *data, size_t len);

#endif
