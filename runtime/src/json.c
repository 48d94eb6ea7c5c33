/*===- json.c - A strict, allocation-free JSON reader -------------*- C -*-===*
 *
 * Part of the muir project, under the Apache License v2.0 with LLVM
 * Exceptions.
 *
 *===----------------------------------------------------------------------===*
 *
 * muir_json_parse validates with a recursive descent bounded by
 * MUIR_JSON_MAX_DEPTH; every other function walks text that passed it, so
 * they only need to stay inside the buffer, not to diagnose.
 *
 *===----------------------------------------------------------------------===*/

#include "json.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

typedef struct {
  const char *s;
  size_t n, i;
  int depth;
  char *error;
  size_t error_size;
} parser_t;

void muir_json_position(muir_json_t value, int64_t *line, int64_t *column) {
  int64_t l = 1, c = 1;
  for (size_t k = 0; k < value.at && k < value.size; ++k) {
    if (value.text[k] == '\n') {
      ++l;
      c = 1;
    } else {
      ++c;
    }
  }
  *line = l;
  *column = c;
}

static bool fail(parser_t *p, size_t at, const char *what) {
  int64_t line, column;
  muir_json_position((muir_json_t){p->s, p->n, at}, &line, &column);
  snprintf(p->error, p->error_size, "line %" PRId64 ", column %" PRId64 ": %s",
           line, column, what);
  return false;
}

static bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skipSpace(parser_t *p) {
  while (p->i < p->n && isSpace(p->s[p->i]))
    ++p->i;
}

static bool isDigit(char c) { return c >= '0' && c <= '9'; }

static int hexValue(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/** The four hex digits at s[at, at+4) as a code unit, or -1. */
static long hex4(const char *s, size_t n, size_t at) {
  if (at > n || n - at < 4)
    return -1;
  long u = 0;
  for (size_t k = 0; k < 4; ++k) {
    int h = hexValue(s[at + k]);
    if (h < 0)
      return -1;
    u = u * 16 + h;
  }
  return u;
}

/** Length of the well-formed UTF-8 sequence (RFC 3629) of 2 to 4 bytes at
 *  s[0, n), or 0. */
static size_t utf8Length(const unsigned char *s, size_t n) {
  unsigned char c = s[0];
  size_t length;
  unsigned char lo = 0x80, hi = 0xBF; /* bounds of the second byte */
  if (c >= 0xC2 && c <= 0xDF) {
    length = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    length = 3;
    if (c == 0xE0)
      lo = 0xA0;
    else if (c == 0xED) /* no UTF-16 surrogates */
      hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    length = 4;
    if (c == 0xF0)
      lo = 0x90;
    else if (c == 0xF4) /* nothing above U+10FFFF */
      hi = 0x8F;
  } else {
    return 0;
  }
  if (n < length || s[1] < lo || s[1] > hi)
    return 0;
  for (size_t k = 2; k < length; ++k)
    if (s[k] < 0x80 || s[k] > 0xBF)
      return 0;
  return length;
}

static bool parseString(parser_t *p) {
  size_t start = p->i++;
  for (;;) {
    if (p->i >= p->n)
      return fail(p, start, "unterminated string");
    unsigned char c = (unsigned char)p->s[p->i];
    if (c == '"') {
      ++p->i;
      return true;
    }
    if (c < 0x20)
      return fail(p, p->i, "control character in a string (escape it)");
    if (c >= 0x80) {
      size_t length =
          utf8Length((const unsigned char *)p->s + p->i, p->n - p->i);
      if (!length)
        return fail(p, p->i, "invalid UTF-8 in a string");
      p->i += length;
      continue;
    }
    if (c != '\\') {
      ++p->i;
      continue;
    }
    size_t escape = p->i++;
    if (p->i >= p->n)
      return fail(p, start, "unterminated string");
    char e = p->s[p->i];
    if (strchr("\"\\/bfnrt", e) && e != '\0') {
      ++p->i;
      continue;
    }
    if (e != 'u')
      return fail(p, escape, "unknown escape in a string");
    long u = hex4(p->s, p->n, p->i + 1);
    if (u < 0)
      return fail(p, escape, "\\u needs four hex digits");
    p->i += 5;
    if (u >= 0xDC00 && u <= 0xDFFF)
      return fail(p, escape, "lone low surrogate in a string");
    if (u >= 0xD800 && u <= 0xDBFF) {
      long low = p->i + 1 < p->n && p->s[p->i] == '\\' && p->s[p->i + 1] == 'u'
                     ? hex4(p->s, p->n, p->i + 2)
                     : -1;
      if (low < 0xDC00 || low > 0xDFFF)
        return fail(p, escape, "high surrogate without a low one in a string");
      p->i += 6;
    }
  }
}

static bool parseNumber(parser_t *p) {
  size_t start = p->i;
  if (p->s[p->i] == '-')
    ++p->i;
  if (p->i >= p->n || !isDigit(p->s[p->i]))
    return fail(p, start, "bad number");
  if (p->s[p->i] == '0' && p->i + 1 < p->n && isDigit(p->s[p->i + 1]))
    return fail(p, start, "number with a leading zero");
  while (p->i < p->n && isDigit(p->s[p->i]))
    ++p->i;
  if (p->i < p->n && p->s[p->i] == '.') {
    ++p->i;
    if (p->i >= p->n || !isDigit(p->s[p->i]))
      return fail(p, start, "bad number: no digit after '.'");
    while (p->i < p->n && isDigit(p->s[p->i]))
      ++p->i;
  }
  if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
    ++p->i;
    if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
      ++p->i;
    if (p->i >= p->n || !isDigit(p->s[p->i]))
      return fail(p, start, "bad number: no digit in the exponent");
    while (p->i < p->n && isDigit(p->s[p->i]))
      ++p->i;
  }
  return true;
}

static bool parseLiteral(parser_t *p, const char *word) {
  size_t length = strlen(word);
  if (p->n - p->i < length || memcmp(p->s + p->i, word, length) != 0)
    return fail(p, p->i, "unexpected character");
  p->i += length;
  return true;
}

static bool parseValue(parser_t *p);

/** An array or an object, from its opening bracket. */
static bool parseContainer(parser_t *p) {
  bool object = p->s[p->i] == '{';
  char close = object ? '}' : ']';
  if (++p->depth > MUIR_JSON_MAX_DEPTH)
    return fail(p, p->i, "nested deeper than 64 levels");
  ++p->i;
  skipSpace(p);
  if (p->i < p->n && p->s[p->i] == close) {
    ++p->i;
    --p->depth;
    return true;
  }
  for (;;) {
    if (object) {
      if (p->i >= p->n || p->s[p->i] != '"')
        return fail(p, p->i, "expected a string key");
      if (!parseString(p))
        return false;
      skipSpace(p);
      if (p->i >= p->n || p->s[p->i] != ':')
        return fail(p, p->i, "expected ':' after a key");
      ++p->i;
      skipSpace(p);
    }
    if (!parseValue(p))
      return false;
    skipSpace(p);
    if (p->i < p->n && p->s[p->i] == ',') {
      ++p->i;
      skipSpace(p);
      continue;
    }
    if (p->i < p->n && p->s[p->i] == close) {
      ++p->i;
      --p->depth;
      return true;
    }
    return fail(p, p->i,
                object ? "expected ',' or '}' in an object"
                       : "expected ',' or ']' in an array");
  }
}

static bool parseValue(parser_t *p) {
  if (p->i >= p->n)
    return fail(p, p->i, "unexpected end of text");
  switch (p->s[p->i]) {
  case '{':
  case '[':
    return parseContainer(p);
  case '"':
    return parseString(p);
  case 't':
    return parseLiteral(p, "true");
  case 'f':
    return parseLiteral(p, "false");
  case 'n':
    return parseLiteral(p, "null");
  default:
    if (p->s[p->i] == '-' || isDigit(p->s[p->i]))
      return parseNumber(p);
    return fail(p, p->i, "unexpected character");
  }
}

bool muir_json_parse(const char *text, size_t size, muir_json_t *out_root,
                     char *error, size_t error_size) {
  parser_t p = {text, size, 0, 0, error, error_size};
  skipSpace(&p);
  size_t root = p.i;
  if (!parseValue(&p))
    return false;
  skipSpace(&p);
  if (p.i != p.n)
    return fail(&p, p.i, "text after the value");
  *out_root = (muir_json_t){text, size, root};
  return true;
}

/*===- Walking validated text ---------------------------------------------===*/

muir_json_type_t muir_json_type(muir_json_t v) {
  if (v.at >= v.size)
    return MUIR_JSON_INVALID;
  switch (v.text[v.at]) {
  case '{':
    return MUIR_JSON_OBJECT;
  case '[':
    return MUIR_JSON_ARRAY;
  case '"':
    return MUIR_JSON_STRING;
  case 't':
  case 'f':
    return MUIR_JSON_BOOL;
  case 'n':
    return MUIR_JSON_NULL;
  default:
    return MUIR_JSON_NUMBER;
  }
}

static size_t skipSpaceAt(const char *s, size_t n, size_t i) {
  while (i < n && isSpace(s[i]))
    ++i;
  return i;
}

/** End of the string starting at s[i] (its opening quote). */
static size_t skipString(const char *s, size_t n, size_t i) {
  for (++i; i < n && s[i] != '"'; ++i)
    if (s[i] == '\\')
      ++i;
  return i < n ? i + 1 : n;
}

/** End of the value starting at s[i]. */
static size_t skipValue(const char *s, size_t n, size_t i) {
  if (i >= n)
    return n;
  if (s[i] == '"')
    return skipString(s, n, i);
  if (s[i] != '[' && s[i] != '{') {
    while (i < n && !isSpace(s[i]) && s[i] != ',' && s[i] != ']' && s[i] != '}')
      ++i;
    return i;
  }
  size_t depth = 0;
  while (i < n) {
    char c = s[i];
    if (c == '"') {
      i = skipString(s, n, i);
      continue;
    }
    ++i;
    if (c == '[' || c == '{')
      ++depth;
    else if ((c == ']' || c == '}') && --depth == 0)
      return i;
  }
  return n;
}

/** Decodes the next code point of the string body at s[*i] into UTF-8
 *  bytes; returns their count (0 at the closing quote or the end). */
static size_t decodeNext(const char *s, size_t n, size_t *i,
                         unsigned char out[4]) {
  if (*i >= n || s[*i] == '"')
    return 0;
  if (s[*i] != '\\') {
    out[0] = (unsigned char)s[(*i)++];
    return 1;
  }
  if (*i + 1 >= n)
    return 0;
  char e = s[*i + 1];
  *i += 2;
  switch (e) {
  case 'b':
    out[0] = '\b';
    return 1;
  case 'f':
    out[0] = '\f';
    return 1;
  case 'n':
    out[0] = '\n';
    return 1;
  case 'r':
    out[0] = '\r';
    return 1;
  case 't':
    out[0] = '\t';
    return 1;
  case 'u':
    break;
  default:
    out[0] = (unsigned char)e;
    return 1;
  }
  long u = hex4(s, n, *i);
  if (u < 0)
    return 0;
  *i += 4;
  if (u >= 0xD800 && u <= 0xDBFF) {
    long low = hex4(s, n, *i + 2);
    if (low < 0)
      return 0;
    *i += 6;
    u = 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00);
  }
  if (u < 0x80) {
    out[0] = (unsigned char)u;
    return 1;
  }
  if (u < 0x800) {
    out[0] = (unsigned char)(0xC0 | (u >> 6));
    out[1] = (unsigned char)(0x80 | (u & 0x3F));
    return 2;
  }
  if (u < 0x10000) {
    out[0] = (unsigned char)(0xE0 | (u >> 12));
    out[1] = (unsigned char)(0x80 | ((u >> 6) & 0x3F));
    out[2] = (unsigned char)(0x80 | (u & 0x3F));
    return 3;
  }
  out[0] = (unsigned char)(0xF0 | (u >> 18));
  out[1] = (unsigned char)(0x80 | ((u >> 12) & 0x3F));
  out[2] = (unsigned char)(0x80 | ((u >> 6) & 0x3F));
  out[3] = (unsigned char)(0x80 | (u & 0x3F));
  return 4;
}

bool muir_json_string_equals(muir_json_t v, const char *want) {
  if (muir_json_type(v) != MUIR_JSON_STRING)
    return false;
  size_t i = v.at + 1, k = 0;
  unsigned char bytes[4];
  size_t count;
  while ((count = decodeNext(v.text, v.size, &i, bytes)) != 0)
    for (size_t b = 0; b < count; ++b, ++k)
      if (bytes[b] == 0 || (unsigned char)want[k] != bytes[b])
        return false;
  return want[k] == '\0';
}

size_t muir_json_string_copy(muir_json_t v, char *out, size_t out_size) {
  size_t i = v.at + 1, length = 0;
  unsigned char bytes[4];
  size_t count;
  if (muir_json_type(v) == MUIR_JSON_STRING)
    while ((count = decodeNext(v.text, v.size, &i, bytes)) != 0)
      for (size_t b = 0; b < count; ++b, ++length)
        if (length + 1 < out_size)
          out[length] = (char)bytes[b];
  if (out_size)
    out[length < out_size ? length : out_size - 1] = '\0';
  return length;
}

int muir_json_member(muir_json_t object, const char *key, muir_json_t *out) {
  if (muir_json_type(object) != MUIR_JSON_OBJECT)
    return 0;
  const char *s = object.text;
  size_t n = object.size, i = skipSpaceAt(s, n, object.at + 1);
  int found = 0;
  while (i < n && s[i] == '"') {
    muir_json_t name = {s, n, i};
    i = skipSpaceAt(s, n, skipString(s, n, i));
    if (i < n && s[i] == ':')
      ++i;
    i = skipSpaceAt(s, n, i);
    if (muir_json_string_equals(name, key)) {
      if (found)
        return -1;
      found = 1;
      *out = (muir_json_t){s, n, i};
    }
    i = skipSpaceAt(s, n, skipValue(s, n, i));
    if (i < n && s[i] == ',')
      i = skipSpaceAt(s, n, i + 1);
  }
  return found;
}

bool muir_json_next(muir_json_t array, size_t *cursor, muir_json_t *out) {
  if (muir_json_type(array) != MUIR_JSON_ARRAY)
    return false;
  const char *s = array.text;
  size_t n = array.size;
  size_t i = skipSpaceAt(s, n, *cursor ? *cursor : array.at + 1);
  if (i >= n || s[i] == ']')
    return false;
  *out = (muir_json_t){s, n, i};
  i = skipSpaceAt(s, n, skipValue(s, n, i));
  if (i < n && s[i] == ',')
    ++i;
  *cursor = i;
  return true;
}

size_t muir_json_length(muir_json_t array) {
  size_t cursor = 0, count = 0;
  muir_json_t element;
  while (muir_json_next(array, &cursor, &element))
    ++count;
  return count;
}

bool muir_json_int(muir_json_t v, int64_t *out) {
  if (muir_json_type(v) != MUIR_JSON_NUMBER)
    return false;
  const char *s = v.text;
  size_t i = v.at;
  bool negative = s[i] == '-';
  if (negative)
    ++i;
  int64_t value = 0; /* accumulated negated: INT64_MIN fits */
  size_t digits = 0;
  for (; i < v.size && isDigit(s[i]); ++i, ++digits) {
    int d = s[i] - '0';
    if (value < (INT64_MIN + d) / 10)
      return false;
    value = value * 10 - d;
  }
  if (digits == 0 ||
      (i < v.size && (s[i] == '.' || s[i] == 'e' || s[i] == 'E')))
    return false;
  if (!negative && value == INT64_MIN)
    return false;
  *out = negative ? value : -value;
  return true;
}
