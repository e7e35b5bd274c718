/* text.h: small string helpers shared by code that must not depend on each other (device selection in
 * runtime/, the --devices parser in parallel/). Header-only, so pure code and fuzz targets take it freely. */
#ifndef ACL_RUNTIME_TEXT_H
#define ACL_RUNTIME_TEXT_H

#include <ctype.h>
#include <string.h>

/* Whether hay contains needle, ignoring ASCII case; a NULL hay contains nothing. */
static inline int acl_contains_nocase(const char *hay, const char *needle)
{
    if (!hay)
        return 0;
    size_t n = strlen(needle);
    if (n == 0)
        return 1;
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return 1;
    }
    return 0;
}

#endif
