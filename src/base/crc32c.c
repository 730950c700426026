/* crc32c.c — software CRC-32C, slicing-by-8 over generated tables.
 * Portable on purpose: the same code runs in the glibc, musl and fuzzing builds. */
#include "base/crc32c.h"

#include "base/crc32c_table.h"

uint32_t crc32c(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    uint32_t c = ~crc;

    while (len > 0 && ((uintptr_t)p & 7u) != 0) {
        c = crc32c_tab[0][(c ^ *p++) & 0xFFu] ^ (c >> 8);
        len--;
    }
    while (len >= 8) {
        /* Little-endian assembly of the word keeps the tables' bit order on any host. */
        uint32_t lo = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
        lo ^= c;
        c = crc32c_tab[7][lo & 0xFFu] ^ crc32c_tab[6][(lo >> 8) & 0xFFu] ^
            crc32c_tab[5][(lo >> 16) & 0xFFu] ^ crc32c_tab[4][lo >> 24] ^
            crc32c_tab[3][hi & 0xFFu] ^ crc32c_tab[2][(hi >> 8) & 0xFFu] ^
            crc32c_tab[1][(hi >> 16) & 0xFFu] ^ crc32c_tab[0][hi >> 24];
        p += 8;
        len -= 8;
    }
    while (len > 0) {
        c = crc32c_tab[0][(c ^ *p++) & 0xFFu] ^ (c >> 8);
        len--;
    }
    return ~c;
}
