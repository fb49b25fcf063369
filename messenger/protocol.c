/* protocol.c -- messenger.h's frames, built and taken apart once, for
 * messenger_server, messenger_client and the test-only messenger_probe. The
 * pipe and socket calls stay in those programs; this file only turns fields
 * into bytes and back, and says whether a nick or a text will do. */
#include "messenger.h"

#include <string.h>

size_t buildFrame(char *frame, char type, int count, const char *const fields[])
{
    size_t length = 1, n;
    int i;

    frame[MS_HEADER] = type;
    for (i = 0; i < count; i++) {
        n = strlen(fields[i]);
        if (length + (i > 0) + n > MS_MAX_FRAME)
            return 0;
        if (i > 0)
            frame[MS_HEADER + length++] = '\0';
        memcpy(frame + MS_HEADER + length, fields[i], n);
        length += n;
    }
    for (i = 0; i < MS_HEADER; i++) /* little-endian, whatever this machine is */
        frame[i] = (char)((length >> (8 * i)) & 0xFF);
    return MS_HEADER + length;
}

DWORD frameLength(const unsigned char *header)
{
    DWORD length = header[0] | (DWORD)header[1] << 8 | (DWORD)header[2] << 16 |
                   (DWORD)header[3] << 24;

    return length >= 1 && length <= MS_MAX_FRAME ? length : 0;
}

/* How many fields each type has: -1 for "one or more" (MS_MEMBERS); -2: no such type. */
static int fieldsOf(char type, BOOL fromServer)
{
    static const char fromClient[] = "H1S1P2W0N1Q0", fromServerTypes[] = "A1E1J3L4M4R4T3U-B1";
    const char *types = fromServer ? fromServerTypes : fromClient;
    size_t i;

    for (i = 0; types[i] != '\0'; i += 2)
        if (types[i] == type)
            return types[i + 1] == '-' ? -1 : types[i + 1] - '0';
    return -2;
}

const char *parseFrame(const char *body, DWORD length, BOOL fromServer, Frame *f)
{
    int wanted = fieldsOf(body[0], fromServer);
    DWORD i;

    if (wanted == -2)
        return "an unknown frame type";
    f->type = body[0];
    memcpy(f->body, body + 1, length - 1);
    f->body[length - 1] = '\0';
    f->count = 0;
    if (wanted == 0)
        return length == 1 ? NULL : "fields where its type has none";
    /* The first field, and one after each '\0' (a type's only field may be empty). */
    f->field[0] = f->body;
    f->count = 1;
    for (i = 0; i < length - 1 && f->count < MS_MAX_FIELDS; i++)
        if (f->body[i] == '\0')
            f->field[f->count++] = f->body + i + 1;
    if (wanted > 0 && f->count != wanted)
        return "the wrong number of fields for its type";
    return NULL;
}

/* Valid UTF-8, and no control character -- no newline to forge a line, no
 * escape to drive a terminal. MultiByteToWideChar with MB_ERR_INVALID_CHARS
 * rejects overlong forms, surrogates and stray bytes. */
static const char *checkCharacters(const char *text, size_t length)
{
    size_t i;

    if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, text, (int)length, NULL, 0) == 0)
        return "is not valid UTF-8";
    for (i = 0; i < length; i++)
        if ((unsigned char)text[i] < 0x20 || text[i] == 0x7F)
            return "has a control character";
    return NULL;
}

const char *checkNick(const char *nick)
{
    size_t length = strlen(nick);

    if (length == 0)
        return "is empty";
    if (length > MS_MAX_NICK)
        return "is over 32 bytes"; /* MS_MAX_NICK */
    if (strchr(nick, ' ') != NULL)
        return "has a space";
    return checkCharacters(nick, length);
}

const char *checkText(const char *text)
{
    size_t length = strlen(text);

    if (length == 0)
        return "is empty";
    if (length > MS_MAX_TEXT)
        return "is over 1024 bytes"; /* MS_MAX_TEXT */
    return checkCharacters(text, length);
}
