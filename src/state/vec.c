/* vec.c — the sorted pointer arrays behind every state table: binary search, and inserts that
 * cannot fail once capacity was reserved, so an apply can allocate first and then mutate. */
#include <stdlib.h>
#include <string.h>

#include "state/state_impl.h"

size_t state_vec_lower(const struct state_vec *vec, const void *key, state_cmp_fn cmp, bool *found)
{
    size_t lo = 0, hi = vec->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp(vec->v[mid], key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (found)
        *found = lo < vec->n && cmp(vec->v[lo], key) == 0;
    return lo;
}

int state_vec_reserve(struct state_vec *vec, size_t extra)
{
    if (extra > SIZE_MAX / sizeof(void *) - vec->n)
        return -1;
    size_t need = vec->n + extra;
    if (need <= vec->cap)
        return 0;
    size_t cap = vec->cap ? vec->cap : 16;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 / sizeof(void *) ? need : cap * 2;
    void **v = realloc(vec->v, cap * sizeof(void *));
    if (!v)
        return -1;
    vec->v = v;
    vec->cap = cap;
    return 0;
}

void state_vec_insert(struct state_vec *vec, size_t at, void *item)
{
    memmove(vec->v + at + 1, vec->v + at, (vec->n - at) * sizeof(void *));
    vec->v[at] = item;
    vec->n++;
}

void *state_vec_remove(struct state_vec *vec, size_t at)
{
    void *item = vec->v[at];
    memmove(vec->v + at, vec->v + at + 1, (vec->n - at - 1) * sizeof(void *));
    vec->n--;
    return item;
}

void state_vec_free(struct state_vec *vec)
{
    free(vec->v);
    vec->v = NULL;
    vec->n = vec->cap = 0;
}
