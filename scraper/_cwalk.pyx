# cython: language_level=3
"""The walk of the main content in C: :func:`scraper.extract.walk`'s loop and walker, compiled;
and :func:`outside_raw`, the text around the main content that scraper/outside.py's
``outside_text`` reads (without taking the tree apart, as the Python way must).

``scraper/extract.py`` is the reference: its ``_Walker`` and Python loop are the specification,
and this module is a line-for-line port of them (same chunks, same lines, same order of
events), so the records are the same; ``tests/unit/test_cwalk.py`` holds the two equal on
every corpus and on random documents. What the port saves is the interpreter's work per
element and per line: an lxml proxy object per element, its tag, text and tail as Python
attributes, bound-method dispatch, and the bookkeeping on Python ints. Here a node's tag is
looked up once per distinct name, text nodes are decoded where they stand, the attributes
that can hide or exclude an element are read here, and an lxml proxy is made only for the
few elements Python must judge (a ``<header>``, one a ``keep`` callback is asked about).

Only libxml2's node structs are read (type, name, children, next, parent, content,
properties, ns), through lxml's public C API (``lxml.includes.etreepublic``): no libxml2
function is called, so nothing links against libxml2. scraper/extract.py uses this module only
when it was built against the lxml in use (``BUILT_WITH_LXML``).
"""

import re

from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.unicode cimport Py_UNICODE_ISSPACE, PyUnicode_DecodeUTF8
from libc.string cimport memcpy, strcmp, strlen, strstr
from lxml.includes cimport tree
from lxml.includes.etreepublic cimport (
    LXML_VERSION_STRING,
    _Document,
    _Element,
    elementFactory,
    import_lxml__etree,
)

from scraper.markup import (
    _ABS_PATH_RE,
    _HIDDEN_STYLE_RE,
    _PLAIN_URL_RE,
    CHROME_CLASSES,
    CHROME_IDS,
    CHROME_ROLES,
    is_excluded,
    is_hidden,
    new_item,
    new_section,
    origin_of,
    resolve_link,
)

import_lxml__etree()

#: The lxml this module was compiled against; scraper/extract.py uses it only with that one.
BUILT_WITH_LXML = (<bytes>LXML_VERSION_STRING).decode("ascii")

cdef extern from *:
    """#ifndef CWALK_SOURCE_SHA256
    #define CWALK_SOURCE_SHA256 ""
    #endif"""
    const char* CWALK_SOURCE_SHA256

#: sha256 of the .pyx this was built from (setup.py says it): a build that failed leaves the
#: last good one in place, and tests/unit/test_cwalk.py tells such a stale one from this source.
SOURCE_SHA256 = (<bytes>CWALK_SOURCE_SHA256).decode("ascii")

# scraper/extract.py's flags (_FLAGS), and this module's own kinds of watched tag.
cdef enum:
    BLOCK = 1
    WATCH = 2
    BR = 4
    SKIP = 8
    HEADER = 16
    KIND_SHIFT = 8
    K_A = 1
    K_BOLD = 2
    K_LI = 3
    K_P = 4
    K_PRE = 5
    K_HEADING = 6

cdef str BREAK = "\x00"

# From scraper/extract.py, read once on first use (it imports this module).
cdef object Extracted = None
cdef dict FLAGS = None
cdef tuple BULLETS = None
cdef str BULLET_CHARS = None
cdef object ROMAN_HEADING_RE = None
cdef Py_ssize_t MAX_PSEUDO_HEADING = 0
cdef Py_ssize_t COLLAPSE_LINES = 0
cdef dict HEADING_LEVELS = None


cdef void _load() except *:
    global Extracted, FLAGS, BULLETS, BULLET_CHARS, ROMAN_HEADING_RE, MAX_PSEUDO_HEADING
    global COLLAPSE_LINES, HEADING_LEVELS
    from scraper import extract
    from scraper.markup import HEADING_LEVELS as levels
    Extracted = extract.Extracted
    FLAGS = extract._FLAGS
    BULLETS = extract._BULLETS
    BULLET_CHARS = "".join(BULLETS)
    ROMAN_HEADING_RE = extract._ROMAN_HEADING_RE
    MAX_PSEUDO_HEADING = extract._MAX_PSEUDO_HEADING
    COLLAPSE_LINES = extract._COLLAPSE_LINES
    HEADING_LEVELS = levels
    # What this module copies as C constants must still be what the Python side says.
    from scraper import markup
    if ((extract._BLOCK, extract._WATCH, extract._BR, extract._SKIP, extract._HEADER)
            != (BLOCK, WATCH, BR, SKIP, HEADER)
            or extract._WATCHED != {"a", "b", "strong", "li", "p", "pre", *HEADING_LEVELS}
            or {32, *map(ord, markup._WS_CONTROLS)} != {c for c in range(256) if FOLDS[c]}
            or not _rules_hold(markup)
            or (_ABS_PATH_RE.pattern, _PLAIN_URL_RE.pattern, _ABS_PATH_RE.flags,
                _PLAIN_URL_RE.flags) != (ABS_PATH_PATTERN, PLAIN_URL_PATTERN, re.UNICODE,
                                         re.UNICODE)):
        raise ImportError("scraper/_cwalk.pyx no longer matches scraper/extract.py or "
                          "scraper/markup.py: port the change")


cdef bint _rules_hold(object markup) except -1:
    """Whether collapse and nonspace here give markup's results for every Latin-1 character
    and every other white space, alone, doubled and beside a letter, at the start, inside
    and at the end of runs long enough for the 16-byte scans and their tails. Two probes,
    each character's runs kept apart by letters: the Latin-1 ones in a string of one byte a
    character (what the scans read), the wider white space in a string of its own."""
    from archive.model import _ODD_SPACES  # every other character str.split splits on

    cdef str probe
    for chars in (map(chr, range(256)), [ch for ch in _ODD_SPACES if ch > "\xff"]):
        probe = "".join([(ch + "a" + ch * 2) * 9 + "b" for ch in chars])
        if (collapse(probe), nonspace(probe)) != (markup.collapse(probe),
                                                   markup.nonspace(probe)):
            return False
        if (collapse_breaks(probe), nonspace(probe, True)) != (
                markup.collapse(probe.replace(BREAK, " ")),
                markup.nonspace(probe.replace(BREAK, ""))):
            return False
    return True


def check():
    """Read what this module takes from scraper/extract.py and scraper/markup.py, and make sure
    the constants it copies still match them (ImportError if not: extract then runs its own
    walk). scraper/extract.py calls it once it has defined them."""
    _load()


# -- libxml2's nodes ---------------------------------------------------------------------------
cdef inline str _decode(const tree.xmlChar* s):
    """libxml2's UTF-8 as lxml gives it (``funicode``)."""
    return PyUnicode_DecodeUTF8(<const char*>s, strlen(<const char*>s), NULL)


cdef inline bint _is_text(tree.xmlNode* n) noexcept:
    return n.type == tree.XML_TEXT_NODE or n.type == tree.XML_CDATA_SECTION_NODE


cdef str _text_run(tree.xmlNode* n):
    """The text of the run of text nodes from ``n``: what lxml's ``.text``/``.tail`` give."""
    cdef str first = _decode(n.content) if n.content is not NULL else ""
    n = n.next
    if n is NULL or not _is_text(n):
        return first
    cdef list parts = [first]
    while n is not NULL and _is_text(n):
        if n.content is not NULL:
            parts.append(_decode(n.content))
        n = n.next
    return "".join(parts)


cdef inline tree.xmlNode* _after_text_run(tree.xmlNode* n) noexcept:
    while n is not NULL and _is_text(n):
        n = n.next
    return n


cdef object _attribute(tree.xmlNode* n, const char* name):
    """The value of ``n``'s attribute ``name`` (no namespace), or None: ``el.get(name)``."""
    cdef tree.xmlAttr* a = n.properties
    cdef tree.xmlNode* c
    while a is not NULL:
        if a.ns is NULL and strcmp(<const char*>a.name, name) == 0:
            c = a.children
            if c is NULL:
                return ""
            if c.next is NULL and _is_text(c):
                return _decode(c.content) if c.content is not NULL else ""
            parts = []
            while c is not NULL:
                if c.content is not NULL:
                    parts.append(_decode(c.content))
                c = c.next
            return "".join(parts)
        a = a.next
    return None


cdef bint _may_exclude(tree.xmlNode* n) noexcept:
    """True when ``n`` has an attribute that can make it chrome or hidden (extract's
    ``_EXCLUDING_ATTRS``): only then is it worth a proxy and ``is_excluded``."""
    cdef tree.xmlAttr* a = n.properties
    cdef const char* name
    while a is not NULL:
        if a.ns is NULL:
            name = <const char*>a.name
            if (strcmp(name, "class") == 0 or strcmp(name, "id") == 0
                    or strcmp(name, "style") == 0 or strcmp(name, "role") == 0
                    or strcmp(name, "hidden") == 0 or strcmp(name, "aria-hidden") == 0):
                return True
        a = a.next
    return False


# -- scraper.markup's rules, as C functions (markup's are the reference) ------------------
cdef frozenset CHROME_CLASS_SET = frozenset(CHROME_CLASSES)
cdef frozenset CHROME_ID_SET = frozenset(CHROME_IDS)
cdef frozenset CHROME_ROLE_SET = frozenset(CHROME_ROLES)
cdef object HIDDEN_STYLE_SEARCH = _HIDDEN_STYLE_RE.search


cdef extern from "Python.h":
    int PyUnicode_KIND(object o)
    void* PyUnicode_DATA(object o)
    Py_UCS4 PyUnicode_READ(int kind, void* data, Py_ssize_t index)
    str PyUnicode_FromKindAndData(int kind, const void* buffer, Py_ssize_t size)
    void PyUnicode_WRITE(int kind, void* data, Py_ssize_t index, Py_UCS4 value)
    enum:
        PyUnicode_1BYTE_KIND
        PyUnicode_4BYTE_KIND

cdef extern from *:
    """
    /* Scans of a one-byte string for the text rules: 16 bytes at a time where SSE2 is (every
       x86-64), a byte at a time elsewhere; both give the same answers. */
    #include <stddef.h>
    #include <string.h>
    #if defined(__SSE2__)
    #include <emmintrin.h>
    #endif

    /* The index of the first byte at which collapse changes d[0:n], or -1: a folded byte
       (tab, LF, VT, FF, CR, space, and NUL when breaks) that is not a space, or that comes
       right after another folded byte. */
    static Py_ssize_t cw_first_fold_change(const unsigned char* d, Py_ssize_t n, int breaks) {
        Py_ssize_t i = 0;
        unsigned int prev = 0;  /* the byte before i was folded */
    #if defined(__SSE2__)
        const __m128i space = _mm_set1_epi8(' '), nine = _mm_set1_epi8(9);
        const __m128i four = _mm_set1_epi8(4), zero = _mm_setzero_si128();
        for (; i + 16 <= n; i += 16) {
            __m128i x = _mm_loadu_si128((const __m128i*)(d + i));
            __m128i off = _mm_sub_epi8(x, nine);  /* 9..13 -> 0..4 */
            __m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(off, four), off);
            if (breaks) ctl = _mm_or_si128(ctl, _mm_cmpeq_epi8(x, zero));
            unsigned int sp = (unsigned int)_mm_movemask_epi8(_mm_cmpeq_epi8(x, space));
            unsigned int c = (unsigned int)_mm_movemask_epi8(ctl);
            unsigned int f = sp | c;
            unsigned int change = c | (f & ((f << 1) | prev));
            if (change) {
                return i + __builtin_ctz(change);
            }
            prev = (f >> 15) & 1u;
        }
    #endif
        for (; i < n; i++) {
            unsigned char b = d[i];
            unsigned int f = b == ' ' || (b >= 9 && b <= 13) || (breaks && b == 0);
            if (f && (prev || b != ' ')) return i;
            prev = f;
        }
        return -1;
    }

    /* How many bytes of d[0:n] are space, LF, tab, CR or no-break space (and NUL when
       breaks): what nonspace leaves out. */
    static Py_ssize_t cw_count_spaces(const unsigned char* d, Py_ssize_t n, int breaks) {
        Py_ssize_t i = 0, count = 0;
    #if defined(__SSE2__)
        const __m128i sp = _mm_set1_epi8(' '), lf = _mm_set1_epi8(10);
        const __m128i tab = _mm_set1_epi8(9), cr = _mm_set1_epi8(13);
        const __m128i nbsp = _mm_set1_epi8((char)0xa0), zero = _mm_setzero_si128();
        for (; i + 16 <= n; i += 16) {
            __m128i x = _mm_loadu_si128((const __m128i*)(d + i));
            __m128i m = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(x, sp), _mm_cmpeq_epi8(x, lf)),
                _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, tab), _mm_cmpeq_epi8(x, cr)),
                             _mm_cmpeq_epi8(x, nbsp)));
            if (breaks) m = _mm_or_si128(m, _mm_cmpeq_epi8(x, zero));
            unsigned int bits = (unsigned int)_mm_movemask_epi8(m);
            bits = bits - ((bits >> 1) & 0x5555u);  /* no popcnt instruction assumed */
            bits = (bits & 0x3333u) + ((bits >> 2) & 0x3333u);
            bits = (bits + (bits >> 4)) & 0x0f0fu;
            count += (bits + (bits >> 8)) & 0x1fu;
        }
    #endif
        for (; i < n; i++) {
            unsigned char b = d[i];
            count += b == ' ' || b == 10 || b == 9 || b == 13 || b == 0xa0
                     || (breaks && b == 0);
        }
        return count;
    }

    /* Whether d[0:n] holds one of the words "pdated", "odified", "evised", each all lower or
       all upper case: every one ends in "d" (or "D"), so only where a d stands is a word
       compared, the d's found 16 bytes at a time. */
    static int cw_mentions_updated(const unsigned char* d, Py_ssize_t n) {
        static const char* const lower[3] = {"pdated", "odified", "evised"};
        static const char* const upper[3] = {"PDATED", "ODIFIED", "EVISED"};
        Py_ssize_t i = 0;
    #if defined(__SSE2__)
        const __m128i ld = _mm_set1_epi8('d'), ud = _mm_set1_epi8('D');
        for (; i + 16 <= n; i += 16) {
            __m128i x = _mm_loadu_si128((const __m128i*)(d + i));
            unsigned int m = (unsigned int)_mm_movemask_epi8(
                _mm_or_si128(_mm_cmpeq_epi8(x, ld), _mm_cmpeq_epi8(x, ud)));
            while (m) {
                Py_ssize_t j = i + __builtin_ctz(m);
                const char* const* words = d[j] == 'd' ? lower : upper;
                for (int w = 0; w < 3; w++) {
                    Py_ssize_t len = (Py_ssize_t)strlen(words[w]);
                    if (j + 1 >= len && memcmp(d + j + 1 - len, words[w], len) == 0) return 1;
                }
                m &= m - 1;
            }
        }
    #endif
        for (; i < n; i++) {
            if (d[i] != 'd' && d[i] != 'D') continue;
            const char* const* words = d[i] == 'd' ? lower : upper;
            for (int w = 0; w < 3; w++) {
                Py_ssize_t len = (Py_ssize_t)strlen(words[w]);
                if (i + 1 >= len && memcmp(d + i + 1 - len, words[w], len) == 0) return 1;
            }
        }
        return 0;
    }
    """
    Py_ssize_t cw_first_fold_change(const unsigned char* d, Py_ssize_t n, int breaks) nogil
    Py_ssize_t cw_count_spaces(const unsigned char* d, Py_ssize_t n, int breaks) nogil
    int cw_mentions_updated(const unsigned char* d, Py_ssize_t n) nogil


# Latin-1 characters markup.collapse folds (its _WS_CONTROLS and the space): 1. The same, and
# BREAK, for a text whose line breaks become spaces first.
cdef unsigned char[256] FOLDS
cdef unsigned char[256] FOLDS_OR_BREAK
for _c in (32, 10, 9, 13, 12, 11):
    FOLDS[_c] = FOLDS_OR_BREAK[_c] = 1
FOLDS_OR_BREAK[0] = 1


cdef str _fold(str s, bint breaks):
    """Each run of the characters collapse folds (and BREAK, when ``breaks``), all below
    U+0021, as one space; ``s`` itself when nothing changes, as markup.collapse returns it.
    One pass: the first change found (16 bytes at a time), the rest written from there."""
    cdef Py_ssize_t n = len(s), i, start = -1, size
    cdef int kind = PyUnicode_KIND(s)
    cdef void* data = PyUnicode_DATA(s)
    cdef const unsigned char* d = <const unsigned char*>data
    cdef const unsigned char* table = &FOLDS_OR_BREAK[0] if breaks else &FOLDS[0]
    cdef Py_UCS4 c
    cdef bint run = False
    cdef void* buf
    if kind == 1:
        start = cw_first_fold_change(d, n, breaks)
        run = start > 0 and table[d[start - 1]]
    else:
        for i in range(n):  # where the first change is, if any
            c = PyUnicode_READ(kind, data, i)
            if c > 32 or not table[c]:
                run = False
            elif run or c != 32:
                start = i
                break
            else:
                run = True
    if start < 0:
        return s
    # What comes before the change stays; from there each run of folded characters is one
    # space (run says whether the character before the change was one). Only characters are
    # dropped, and the space is in every kind: the result fits a buffer of s's kind.
    buf = PyMem_Malloc(n * kind)
    if buf is NULL:
        raise MemoryError()
    try:
        memcpy(buf, data, start * kind)
        size = start
        for i in range(start, n):
            c = PyUnicode_READ(kind, data, i)
            if c <= 32 and table[c]:
                if run:
                    continue
                run = True
                c = 32
            else:
                run = False
            PyUnicode_WRITE(kind, buf, size, c)
            size += 1
        return PyUnicode_FromKindAndData(kind, buf, size)  # in the narrowest kind, as needed
    finally:
        PyMem_Free(buf)


cdef inline str collapse(str s):
    """markup.collapse: runs of HTML white space (not no-break spaces) as one space."""
    return _fold(s, False)


cdef inline str collapse_breaks(str s):
    """``collapse(s.replace(BREAK, " "))``, in one pass."""
    return _fold(s, True)


cdef inline str clean(str s):
    """markup.clean: collapse, then strip all white space at the ends."""
    return collapse(s).strip()


cdef Py_ssize_t nonspace(str s, bint breaks=False) except -1:
    """markup.nonspace: the characters of ``s`` that are not common white space (``breaks``:
    nor BREAK). A string of one byte a character (nearly all) is counted in one pass, 16
    bytes at a time, where markup's counts each space apart."""
    cdef Py_ssize_t n = len(s)
    if PyUnicode_KIND(s) == 1:
        return n - cw_count_spaces(<const unsigned char*>PyUnicode_DATA(s), n, breaks)
    n -= s.count(" ") + s.count("\n") + s.count("\t") + s.count("\r") + s.count("\xa0")
    return n - s.count(BREAK) if breaks else n


def text_rules(str s, bint breaks=False):
    """(``collapse``, ``nonspace``) of ``s`` as this module computes them, BREAK read as a
    space by the first and not counted by the second when ``breaks``: for the tests that
    hold them equal to markup's."""
    return (collapse_breaks(s) if breaks else collapse(s)), nonspace(s, breaks)


# markup's _ABS_PATH_RE and _PLAIN_URL_RE, as loops (a regex match was most of what a link
# cost); _load refuses to run when markup's patterns are no longer these.
ABS_PATH_PATTERN = r"/(?!/)[^?#;\s\\]*\Z"
PLAIN_URL_PATTERN = r"https?://[a-z0-9-]+(?:\.[a-z0-9-]+)*/[^?#;\s\\]*\Z"


cdef bint _path_from(str s, Py_ssize_t i) noexcept:
    """The patterns' path from ``i`` to the end: no "?", "#", ";", backslash or white space
    (the characters ``str.isspace`` tells, which are what the patterns' ``\\s`` matches)."""
    cdef Py_ssize_t n = len(s)
    cdef int kind = PyUnicode_KIND(s)
    cdef void* data = PyUnicode_DATA(s)
    cdef Py_UCS4 c
    for i in range(i, n):
        c = PyUnicode_READ(kind, data, i)
        if c == 63 or c == 35 or c == 59 or c == 92 or Py_UNICODE_ISSPACE(c):  # ? # ; \\
            return False
    return True


cdef bint _abs_path(str href) noexcept:
    """ABS_PATH_PATTERN matches ``href``: "/", not "//", then a plain path."""
    cdef Py_ssize_t n = len(href)
    if n == 0 or href[0] != "/":
        return False
    return n == 1 or (href[1] != "/" and _path_from(href, 1))


cdef bint _plain_url(str href) noexcept:
    """PLAIN_URL_PATTERN matches ``href``: http(s)://, host labels of [a-z0-9-] joined by
    single dots, "/", then a plain path."""
    cdef Py_ssize_t n = len(href), i, label = 0
    cdef Py_UCS4 c
    if href.startswith("http://"):
        i = 7
    elif href.startswith("https://"):
        i = 8
    else:
        return False
    while i < n:
        c = href[i]
        if (97 <= c <= 122) or (48 <= c <= 57) or c == 45:  # a-z 0-9 -
            label += 1
        elif c == 46 and label:  # "." after a label
            label = 0
        elif c == 47 and label:  # "/" after a label: the path
            return _path_from(href, i + 1)
        else:
            return False
        i += 1
    return False


def url_rules(str href):
    """(ABS_PATH_PATTERN matches, PLAIN_URL_PATTERN matches) as this module tells them: for the
    tests that hold them equal to the regular expressions."""
    return _abs_path(href), _plain_url(href)


cdef bint _excluded_by_attributes(tree.xmlNode* n) except -1:
    """markup.is_excluded for an element whose tag alone does not decide (not a skipped tag,
    not a ``<header>``), read from its attributes without an lxml proxy."""
    if _attribute(n, "hidden") is not None or _attribute(n, "aria-hidden") == "true":
        return True
    if _attribute(n, "role") in CHROME_ROLE_SET:
        return True
    style = _attribute(n, "style")
    if style and HIDDEN_STYLE_SEARCH(style):
        return True
    cls = _attribute(n, "class")
    if cls and not CHROME_CLASS_SET.isdisjoint(cls.split()):
        return True
    ident = _attribute(n, "id")
    return bool(ident and ident.lower() in CHROME_ID_SET)


cdef str _tag_of(tree.xmlNode* n):
    """An element's tag as lxml spells it."""
    cdef str tag = _decode(n.name)
    if n.ns is not NULL and n.ns.href is not NULL:
        return "{%s}%s" % (_decode(n.ns.href), tag)
    return tag


cdef int _flags_of(tree.xmlNode* n) except -1:
    """extract's ``_FLAGS`` for ``n``'s tag, with the kind of a watched tag in the high bits."""
    cdef str tag = _tag_of(n)
    cdef int f = FLAGS.get(tag, 0)
    if f & WATCH:
        if tag == "a":
            f |= K_A << KIND_SHIFT
        elif tag == "b" or tag == "strong":
            f |= K_BOLD << KIND_SHIFT
        elif tag == "li":
            f |= K_LI << KIND_SHIFT
        elif tag == "p":
            f |= K_P << KIND_SHIFT
        elif tag == "pre":
            f |= K_PRE << KIND_SHIFT
        elif tag in HEADING_LEVELS:
            f |= K_HEADING << KIND_SHIFT
        else:
            raise AssertionError(f"no start for watched tag {tag!r}")
    return f


# -- a value by element name ------------------------------------------------------------------
cdef struct _NameCache:
    # A value (0 or more) for each element name, which libxml2 interns in the document's
    # dictionary: a direct-mapped cache keyed by the name's address. Zeroed with the object
    # that holds it; a name met at another address is only looked up again.
    const void* names[128]
    int values[128]


cdef inline int _cached(_NameCache* cache, tree.xmlNode* n) noexcept:
    """The value remembered for ``n``'s name, or -1."""
    cdef size_t slot = (<size_t>n.name >> 4) & 127
    return cache.values[slot] if cache.names[slot] == <const void*>n.name else -1


cdef inline void _remember(_NameCache* cache, tree.xmlNode* n, int value) noexcept:
    cdef size_t slot = (<size_t>n.name >> 4) & 127
    cache.names[slot] = <const void*>n.name
    cache.values[slot] = value


# -- what the walker reads: extract's _Link, _ListEntry, _Para ------------------------------
cdef class _Link:
    cdef object url
    cdef Py_ssize_t start
    cdef Py_ssize_t end
    cdef str text


cdef class _Entry:
    cdef Py_ssize_t start
    cdef object section
    cdef Py_ssize_t slot
    cdef list links
    cdef list holes


cdef class _Para:
    cdef Py_ssize_t start
    cdef Py_ssize_t line
    cdef object section
    cdef list links


cdef str _lines_of(list chunks):
    """extract's ``_lines``: collected chunks as shown, one cleaned line per block."""
    cdef list out = []
    cdef str line
    for piece in "".join(chunks).split(BREAK):
        line = clean(piece)
        if line:
            out.append(line)
    return "\n".join(out)


cdef Py_ssize_t _break_after(list chunks, Py_ssize_t start) except -1:
    """``chunks.index(BREAK, start)``: BREAK is the one chunk that is this very object (text
    from libxml2 never holds a NUL), so a pointer test finds it; an equal string counts too."""
    cdef Py_ssize_t j, n = len(chunks)
    cdef str c
    for j in range(start, n):
        c = <str>chunks[j]
        if c is BREAK or (len(c) == 1 and c[0] == "\0"):
            return j
    raise ValueError("a line without its BREAK")


cdef bint _long_unbulleted(list chunks, Py_ssize_t start) except -1:
    """Whether the paragraph whose chunks start at ``start`` reads as more than
    MAX_PSEUDO_HEADING characters that do not start with a bullet, told without joining it:
    a character that is neither white space (what ``strip`` takes) nor BREAK survives the
    collapse and the strip, so it counts, and the first of them starts the text. The scan
    stops as soon as it knows."""
    cdef Py_ssize_t j, i, n = len(chunks), count = 0, size
    cdef str c
    cdef int kind
    cdef void* data
    cdef Py_UCS4 ch
    cdef bint first = True
    for j in range(start, n):
        c = <str>chunks[j]
        kind = PyUnicode_KIND(c)
        data = PyUnicode_DATA(c)
        size = len(c)
        for i in range(size):
            ch = PyUnicode_READ(kind, data, i)
            if ch == 0 or Py_UNICODE_ISSPACE(ch):
                continue
            if first:
                if ch in BULLET_CHARS:
                    return False
                first = False
            count += 1
            if count > MAX_PSEUDO_HEADING:
                return True
    return False


cdef class _Walker:
    """extract's ``_Walker``, field for field and method for method."""

    cdef str base
    cdef object origin
    cdef list chunks
    cdef Py_ssize_t line_start
    cdef list lines
    cdef int pre
    cdef bint cur_pre
    cdef bint saw_pre
    cdef int bold
    cdef list bold_log
    cdef _Link link
    cdef Py_ssize_t link_chars
    cdef list entries
    cdef list paras
    cdef list heading_start
    cdef list sections
    cdef list open
    cdef set real
    cdef list items
    cdef tuple pending
    cdef list links
    cdef set seen_links
    cdef _NameCache flag_cache  # an element's flags by its name

    def __cinit__(self, str base_url, str page_url):
        self.base = base_url
        self.origin = origin_of(base_url)
        self.chunks = []
        self.line_start = 0
        self.lines = []
        self.bold_log = [(0, 0)]
        self.link = None
        self.entries = []
        self.paras = []
        self.heading_start = []
        self.sections = []
        self.open = []
        self.real = set()
        self.items = []
        self.pending = None
        self.links = []
        self.seen_links = {page_url}

    cdef inline object section(self):
        return self.open[-1] if self.open else None

    # -- text ---------------------------------------------------------------------------------
    cdef void text(self, str s) except *:
        cdef list pieces
        cdef Py_ssize_t i
        if self.pre:
            self.saw_pre = True
            pieces = s.split("\n")
            self.chunks.append(pieces[0])
            for i in range(1, len(pieces)):
                self.newline()
                self.chunks.append(pieces[i])
            self.cur_pre = True
            return
        self.chunks.append(s)

    cdef bint bold_only(self, Py_ssize_t start) except -1:
        cdef list log = self.bold_log
        cdef list chunks = self.chunks
        cdef Py_ssize_t k, j, n_log = len(log)
        cdef object depth
        cdef bint bold = False
        cdef str c
        if n_log == 1:
            return False
        k = n_log - 1
        while k > 0 and (<tuple>log[k])[0] > start:
            k -= 1
        depth = (<tuple>log[k])[1]
        k += 1
        for j in range(start, len(chunks)):
            while k < n_log and (<tuple>log[k])[0] <= j:
                depth = (<tuple>log[k])[1]
                k += 1
            c = chunks[j]
            if c == BREAK or not c.strip():
                continue
            if not depth:
                return False
            bold = True
        return bold

    cdef void newline(self) except *:
        cdef list chunks = self.chunks
        cdef Py_ssize_t start = self.line_start
        cdef Py_ssize_t end = len(chunks)
        if end > start:
            self.lines.append(~start if self.cur_pre else start)
            self.cur_pre = False
            chunks.append(BREAK)
            self.line_start = end + 1

    cdef str shown(self, object line):
        cdef Py_ssize_t rec, start
        cdef bint pre
        cdef str raw, out
        if not isinstance(line, int):
            return (<tuple>line)[0]
        rec = line
        pre = rec < 0
        start = ~rec if pre else rec
        raw = "".join(self.chunks[start:self.chunks.index(BREAK, start)])
        out = raw.rstrip(" \t\r\n\f") if pre else collapse(raw).strip(" ")
        return out if out.strip() else ""

    cdef str joined(self, Py_ssize_t start, Py_ssize_t end):
        return collapse_breaks("".join(self.chunks[start:end])).strip()

    cdef str joined_from(self, Py_ssize_t start):
        return collapse_breaks("".join(self.chunks[start:])).strip()

    # -- structure ----------------------------------------------------------------------------
    cdef void start_link(self, object href) except *:
        cdef _Link link
        if href is None:
            return
        if self.link is not None:
            # libxml2 nests an unclosed <a> around what follows; browsers close it.
            self.end_a()
        url = self.resolve(href)
        link = _Link.__new__(_Link)
        link.url, link.start, link.end, link.text = url, len(self.chunks), -1, ""
        self.link = link
        if self.paras:
            (<_Para>self.paras[-1]).links.append(link)
        if self.entries:
            (<_Entry>self.entries[-1]).links.append(link)
        if url is not None and url not in self.seen_links:
            self.seen_links.add(url)
            self.links.append(url)

    cdef object resolve(self, str href):
        """markup.resolve_link's two common cases without a Python call (an absolute path on
        a plain origin, a URL already in normal form); any other href goes to it."""
        if not href:
            return None
        href = href.strip()
        if not href or href[0] == "#":
            return None
        if (self.origin is not None and href[0] == "/" and _abs_path(href)
                and "/." not in href and "//" not in href):
            return self.origin + href
        if _plain_url(href):
            return href
        return resolve_link(href, self.base, self.origin)

    cdef void end_a(self) except *:
        cdef _Link link = self.link
        cdef Py_ssize_t start, end
        cdef str text
        if link is None:
            return
        link.end = end = len(self.chunks)
        start = link.start
        if end - start == 1:  # one run of text, the common case: no join, no BREAK
            text = self.chunks[start]
            link.text = clean(text) if text != BREAK else ""
        else:
            link.text = self.joined(start, end)
        self.link_chars += len(link.text) - link.text.count(" ")
        self.link = None

    cdef void start_bold(self) except *:
        self.bold += 1
        self.bold_log.append((len(self.chunks), self.bold))

    cdef void end_bold(self) except *:
        self.bold = max(0, self.bold - 1)
        self.bold_log.append((len(self.chunks), self.bold))

    cdef void start_li(self) except *:
        cdef _Entry entry
        if self.pending is not None:
            self.flush_pending("")
        self.items.append(None)
        entry = _Entry.__new__(_Entry)
        entry.start = len(self.chunks)
        entry.section = self.section()
        entry.slot = len(self.items) - 1
        entry.links, entry.holes = [], []
        self.entries.append(entry)

    cdef void end_li(self) except *:
        cdef _Entry entry
        if self.entries:
            entry = self.entries.pop()
            self.entry_item(entry)
            if self.entries:
                (<_Entry>self.entries[-1]).holes.append((entry.start, len(self.chunks)))

    cdef void start_p(self) except *:
        cdef _Para para = _Para.__new__(_Para)
        para.start = len(self.chunks)
        para.line = len(self.lines)
        para.section = self.section()
        para.links = []
        self.paras.append(para)

    cdef void end_p(self) except *:
        if self.paras:
            self.end_para(self.paras.pop())

    cdef void start_heading(self, str tag) except *:
        self.heading_start.append((tag, len(self.lines)))

    cdef void end_heading(self) except *:
        cdef str htag, heading, s
        cdef Py_ssize_t start
        cdef list parts
        if self.heading_start:
            htag, start = self.heading_start.pop()
            parts = []
            for line in self.lines[start:]:
                s = self.shown(line)
                if s:
                    parts.append(s)
            heading = clean(" ".join(parts))
            if heading:
                del self.lines[start:]
                self.open_section(heading, HEADING_LEVELS[htag], True)

    cdef void open_section(self, str heading, int level, bint real) except *:
        cdef Py_ssize_t index
        self.flush_pending("")
        while self.open and (<object>self.sections[self.open[-1]]).level >= level:
            self.open.pop()
        parent = self.open[-1] if self.open else None
        self.sections.append(new_section(heading, level, "", parent))
        index = len(self.sections) - 1
        self.open.append(index)
        if real:
            self.real.add(index)
        self.lines.append((heading, index))

    cdef void end_para(self, _Para para) except *:
        cdef str text
        cdef list links
        cdef _Link lk
        if self.entries:  # a paragraph inside a list entry belongs to that entry
            return
        links = [lk for lk in para.links if lk.end >= 0]
        if (self.pending is None and len(links) != 1
                and _long_unbulleted(self.chunks, para.start)):
            return  # no case below can apply: the text is not needed, nor built
        text = self.joined_from(para.start)
        if not text:
            return
        if len(links) == 1 and (<_Link>links[0]).text == text:
            # "<p><a>Title</a></p>": an item whose summary is the next paragraph, if any.
            self.flush_pending("")
            self.pending = (text, (<_Link>links[0]).url, para.section)
        elif len(text) <= MAX_PSEUDO_HEADING and (
            (not links and self.bold_only(para.start)) or ROMAN_HEADING_RE.match(text)
        ):
            self.pseudo_heading(para, text)
        elif self.pending is not None:
            self.flush_pending(text)
        elif text.startswith(BULLETS):
            self.bullet_item(para, text, links)

    cdef void pseudo_heading(self, _Para para, str heading) except *:
        cdef object enclosing = None
        cdef int level
        for i in reversed(self.open):
            if i in self.real:
                enclosing = i
                break
        if enclosing is not None:
            level = min(6, (<object>self.sections[enclosing]).level + 1)
        else:
            level = 2
        del self.lines[para.line:]
        self.open_section(heading, level, False)

    cdef void flush_pending(self, str summary) except *:
        if self.pending is None:
            return
        title, url, section = self.pending
        self.pending = None
        self.items.append(new_item(title, url, summary, section))

    cdef void bullet_item(self, _Para para, str text, list links) except *:
        cdef str body = text.lstrip(BULLET_CHARS).strip()
        cdef _Link titled = None
        cdef _Link lk
        if not body:
            return
        for lk in links:
            if lk.text:
                titled = lk
                break
        if titled is not None and body.startswith(titled.text):
            summary = clean(body[len(titled.text):])
            self.items.append(new_item(titled.text, titled.url, summary, para.section))
        else:
            # A link inside the sentence is not its title: the bullet is, pointing at the link.
            url = titled.url if titled is not None else None
            self.items.append(new_item(body, url, "", para.section))

    cdef void entry_item(self, _Entry entry) except *:
        cdef Py_ssize_t first = entry.start, start, end
        cdef list chunks = self.chunks[first:]
        cdef _Link titled = None
        cdef _Link lk
        cdef str text, title, summary
        for start, end in entry.holes:  # leave nested entries out: they are items of their own
            chunks[start - first:end - first] = [""] * (end - start)
        for lk in entry.links:
            if lk.end >= 0 and lk.text:
                titled = lk
                break
        if titled is not None and not self.joined(entry.start, titled.start):
            self.items[entry.slot] = new_item(titled.text, titled.url,
                                              _lines_of(chunks[titled.end - first:]),
                                              entry.section)
            return
        text = _lines_of(chunks)
        if text:
            title, _, summary = text.partition("\n")
            url = titled.url if titled is not None else None
            self.items[entry.slot] = new_item(title, url, summary, entry.section)

    # -- the events of the loop ---------------------------------------------------------------
    cdef inline int flags(self, tree.xmlNode* n) except -1:
        """An element's flags (extract's ``_FLAGS`` for its tag), with the kind of a watched
        tag in their high bits."""
        cdef int f
        if n.ns is not NULL:
            return _flags_of(n)
        f = _cached(&self.flag_cache, n)
        if f < 0:
            f = _flags_of(n)
            _remember(&self.flag_cache, n, f)
        return f

    cdef void start(self, tree.xmlNode* n, int f) except *:
        cdef int kind = f >> KIND_SHIFT
        if kind == K_A:
            self.start_link(_attribute(n, "href"))
        elif kind == K_BOLD:
            self.start_bold()
        elif kind == K_LI:
            self.start_li()
        elif kind == K_P:
            self.start_p()
        elif kind == K_PRE:
            self.pre += 1
        else:
            self.start_heading(_tag_of(n))

    cdef void end(self, int f) except *:
        cdef int kind
        if f & BLOCK:
            self.newline()
        if f & WATCH:
            kind = f >> KIND_SHIFT
            if kind == K_A:
                self.end_a()
            elif kind == K_BOLD:
                self.end_bold()
            elif kind == K_LI:
                self.end_li()
            elif kind == K_P:
                self.end_p()
            elif kind == K_PRE:
                self.pre = max(0, self.pre - 1)
            else:
                self.end_heading()

    cdef void walk(self, _Element main, object keep, object drop) except *:
        """extract's loop, from main's start to its end."""
        cdef _Document doc = main._doc
        cdef tree.xmlNode* top = main._c_node
        cdef tree.xmlNode* owner = top
        cdef tree.xmlNode* n = top.children
        cdef str s
        cdef int f
        cdef bint excluded, skip
        cdef set dropped = None
        cdef _Element el
        if drop:
            dropped = {<size_t>(<_Element?>e)._c_node for e in drop}
        f = self.flags(top)
        if f & WATCH:
            self.start(top, f)
        while True:
            if n is NULL:  # owner's children are done: it ends, and its tail follows
                if owner is top:
                    break
                self.end(self.flags(owner))
                n = owner.next
                owner = owner.parent
                continue
            if _is_text(n):
                s = _text_run(n)
                if s:
                    self.text(s)
                n = _after_text_run(n)
                continue
            if n.type != tree.XML_ELEMENT_NODE:  # walk() strips any other node first
                n = n.next
                continue
            f = self.flags(n)
            excluded = False
            if f & SKIP:
                excluded = True
            elif f & HEADER:
                excluded = bool(is_excluded(elementFactory(doc, n)))
            elif n.properties is not NULL and _may_exclude(n):
                excluded = _excluded_by_attributes(n)
            skip = excluded
            if excluded and keep is not None:
                el = elementFactory(doc, n)
                if not is_hidden(el) and keep(el):
                    skip = False
            if not skip and dropped is not None and <size_t>n in dropped:
                skip = True
            if f & BLOCK or (f & BR and not skip):  # a skipped block still ends the line
                self.newline()
            if skip:
                n = n.next
                continue
            if f & WATCH:
                self.start(n, f)
            if n.children is not NULL:
                owner = n
                n = n.children
                continue
            self.end(f)  # an empty leaf ends where it starts
            n = n.next
        f = self.flags(top)
        if f & BLOCK and len(self.chunks) > self.line_start:
            self.newline()
        if f & WATCH:
            self.end(f & ~BLOCK)

    cdef object finish(self):
        """extract's ``_Walker.finish``: every line as shown. Line by line here, where the
        Python walk collapses a batch of lines joined (fewer Python calls there); collapsing
        never crosses a BREAK, so each line comes out the same. The chunks read are let go
        a batch at a time, as there."""
        cdef list lines, chunks, shown, block
        cdef dict own = {}
        cdef Py_ssize_t first, last, i, end, cut = 0, mass = 0, start, n_lines, n_chunks
        cdef Py_ssize_t block_section = -1, rec
        cdef object section = None, item
        cdef bint pre
        cdef str piece, line, text
        self.newline()
        self.flush_pending("")
        lines, chunks = self.lines, self.chunks
        shown = []
        block = None
        n_lines = len(lines)
        for first in range(0, n_lines, COLLAPSE_LINES):
            last = min(n_lines, first + COLLAPSE_LINES)
            end = -1
            for i in range(first, last):
                item = lines[i]
                if not isinstance(item, int):
                    text, section = item
                    mass += nonspace(text)
                    shown.append(text)
                    block = None
                    continue
                rec = item
                pre = rec < 0
                start = (~rec if pre else rec) - cut
                end = _break_after(chunks, start)
                if end - start == 1:
                    piece = chunks[start]
                elif end == start:
                    piece = ""
                else:
                    piece = "".join(chunks[start:end])
                if pre:
                    line = piece.rstrip(" \t\r\n\f")
                else:
                    line = collapse(piece).strip(" ")
                if not line.strip():  # only no-break spaces: an empty paragraph
                    continue
                mass += nonspace(line)
                if section is None:
                    shown.append(line)
                    block = None
                elif block is not None and section == block_section:
                    block.append(line)
                else:
                    block, block_section = [line], section
                    own.setdefault(section, []).append(block)
                    shown.append((section, block))
            if end >= 0:  # the batch's chunks are read: let them go
                del chunks[:end]
                cut += end
        lines.clear()
        chunks.clear()
        items = [item for item in self.items if item is not None]
        if mass > JOIN_NOW_MASS:  # joined later, once the caller has let the tree go
            return Extracted(shown, own, self.sections, items, self.links, pre=self.saw_pre,
                             link_chars=self.link_chars, mass=mass)
        text, sections = _joined(shown, own, self.sections)
        return Extracted.joined(text, sections, items, self.links, pre=self.saw_pre,
                                link_chars=self.link_chars, mass=mass)


# Up to this much text (what nonspace counts), finish joins the text and the sections' texts
# at once, in C loops, while the lines are fresh; a larger text waits for the caller to let
# lxml's tree go first (Extracted's docstring says why), as the Python walk always does.
cdef Py_ssize_t JOIN_NOW_MASS = 1 << 18


cdef tuple _joined(list shown, dict own, list heads):
    """extract's ``Extracted._join``: (the text, the sections with their texts)."""
    cdef list sections = [], parts = [], blocks
    cdef Py_ssize_t i
    cdef str text
    for i in range(len(heads)):
        head = heads[i]
        blocks = own.get(i)
        if not blocks:
            text = ""
        elif len(blocks) == 1:
            text = "\n".join(<list>blocks[0])
        else:
            text = "\n".join([line for block in blocks for line in <list>block])
        sections.append(new_section(head.heading, head.level, text, head.parent))
    for part in shown:
        if type(part) is str:
            parts.append(part)
        else:
            i = (<tuple>part)[0]
            if len(<list>own[i]) == 1:
                parts.append((<object>sections[i]).text)
            else:
                parts.append("\n".join(<list>(<tuple>part)[1]))
    return "\n".join(parts), sections


def walk(_Element main not None, str base_url, str page_url, keep, drop):
    """:func:`scraper.extract.walk`: the Extracted. ``keep`` must not change the tree (the
    walk holds libxml2's nodes while it asks)."""
    cdef _Walker w
    if Extracted is None:
        _load()
    w = _Walker(base_url, page_url)
    w.walk(main, keep, drop)
    return w.finish()


# -- the text outside the main content ---------------------------------------------------------
cdef int _kind(tree.xmlNode* n, dict kinds) except -1:
    """0 an ordinary element, 1 a line tag, 2 a widget (by ``kinds``, keyed by tag name)."""
    cdef str tag
    if n.ns is not NULL and n.ns.href is not NULL:
        tag = "{%s}%s" % (_decode(n.ns.href), _decode(n.name))
    else:
        tag = _decode(n.name)
    return kinds.get(tag, 0)


cdef class _Lines:
    """The parts of scraper.outside's ``_lines`` text, before its lines are folded."""

    cdef list parts
    cdef dict kinds
    cdef _NameCache kind_cache  # an element's kind by its name

    cdef int kind(self, tree.xmlNode* n) except -1:
        cdef int k
        if n.ns is not NULL:
            return _kind(n, self.kinds)
        k = _cached(&self.kind_cache, n)
        if k < 0:
            k = _kind(n, self.kinds)
            _remember(&self.kind_cache, n, k)
        return k

    cdef bint has_children(self, tree.xmlNode* n) except -1:
        cdef tree.xmlNode* c = n.children
        while c is not NULL:
            if c.type == tree.XML_ELEMENT_NODE:
                if self.kind(c) != 2:
                    return True
            elif (c.type == tree.XML_COMMENT_NODE or c.type == tree.XML_PI_NODE
                    or c.type == tree.XML_ENTITY_REF_NODE):
                return True
            c = c.next
        return False

    cdef void subtree(self, tree.xmlNode* top, tree.xmlNode* hole, list moved) except *:
        """``top``'s text in document order with a line break where a line tag's text (when
        it has children) and tail start; widgets left out; ``hole`` (when not NULL) read as
        the ``moved`` elements, then a ``<br>``, in its place."""
        cdef tree.xmlNode* owner = top
        cdef tree.xmlNode* n = top.children
        cdef _Element el
        cdef int k
        if self.kind(top) == 1 and self.has_children(top):
            self.parts.append("\n")
        while True:
            if n is NULL:
                if owner is top:
                    return
                if self.kind(owner) == 1:
                    self.parts.append("\n")
                n = owner.next
                owner = owner.parent
                continue
            if _is_text(n):
                if n.content is not NULL:
                    self.parts.append(_decode(n.content))
                n = n.next
                continue
            if n.type != tree.XML_ELEMENT_NODE:
                n = n.next
                continue
            if n is hole:
                for el in moved:
                    k = self.kind(el._c_node)
                    if k != 2:  # a widget goes, its tail stays
                        self.subtree(el._c_node, NULL, None)
                        if k == 1:
                            self.parts.append("\n")
                    self.tail(el._c_node)
                self.parts.append("\n")  # the hole is a <br>
                n = n.next
                continue
            k = self.kind(n)
            if k == 2:  # a widget: gone, its tail stays
                n = n.next
                continue
            if k == 1 and self.has_children(n):
                self.parts.append("\n")
            if n.children is not NULL:
                owner = n
                n = n.children
                continue
            if k == 1:
                self.parts.append("\n")
            n = n.next

    cdef void tail(self, tree.xmlNode* n) except *:
        n = n.next
        while n is not NULL and _is_text(n):
            if n.content is not NULL:
                self.parts.append(_decode(n.content))
            n = n.next


# What gather() finds: markup.landmarks's tags, and what maincontent's finders ask XPath for.
LANDMARK_NAMES = ("base", "h1", "main", "article", "section")
MARK_KEYS = (*LANDMARK_NAMES, "body_field", "role_main", "content_id")


def gather(_Element root not None):
    """markup.landmarks(root) and the candidates maincontent's finders find by XPath, in one
    walk of the tree: a dict of MARK_KEYS to lists of elements in document order. "body_field":
    the ``<div>``s and ``<section>``s whose class holds "name-body" (_BODY_CLASS_ATTRS'
    elements), "role_main": the elements with role="main" (_ROLE_ATTRS'), "content_id": those
    with id "content" or "main-content" (_ID_ATTRS'). Element names are matched outside any
    namespace, as in an HTML tree (the only kind parse makes), ``*`` in any."""
    cdef _Document doc = root._doc
    cdef tree.xmlNode* top = root._c_node
    cdef tree.xmlNode* n = top
    cdef const char* name
    cdef list base = [], h1 = [], main = [], article = [], section = [], body = [], role = [], ids = []
    cdef dict found = {"base": base, "h1": h1, "main": main, "article": article,
                       "section": section, "body_field": body, "role_main": role,
                       "content_id": ids}
    while n is not NULL:
        if n.type == tree.XML_ELEMENT_NODE:
            name = <const char*>n.name
            if n.ns is NULL:
                if strcmp(name, "base") == 0:
                    base.append(elementFactory(doc, n))
                elif strcmp(name, "h1") == 0:
                    h1.append(elementFactory(doc, n))
                elif strcmp(name, "main") == 0:
                    main.append(elementFactory(doc, n))
                elif strcmp(name, "article") == 0:
                    article.append(elementFactory(doc, n))
                elif strcmp(name, "section") == 0:
                    section.append(elementFactory(doc, n))
                    _body_class(doc, n, body)
                elif strcmp(name, "div") == 0:
                    _body_class(doc, n, body)
            if n.properties is not NULL:
                if _attribute_is(n, "role", "main"):
                    role.append(elementFactory(doc, n))
                if _attribute_is(n, "id", "content") or _attribute_is(n, "id", "main-content"):
                    ids.append(elementFactory(doc, n))
            if n.children is not NULL:  # depth first, in document order
                n = n.children
                continue
        n = _following(n, top)
    return found


cdef void _body_class(_Document doc, tree.xmlNode* n, list into) except *:
    cdef tree.xmlAttr* a = _plain_attribute(n, "class")
    if a is NULL:
        return
    if a.children is not NULL and a.children.next is NULL and _is_text(a.children):
        if (a.children.content is not NULL
                and strstr(<const char*>a.children.content, "name-body") is not NULL):
            into.append(elementFactory(doc, n))
    elif "name-body" in (_attribute(n, "class") or ""):
        into.append(elementFactory(doc, n))


cdef tree.xmlAttr* _plain_attribute(tree.xmlNode* n, const char* name) noexcept:
    """``n``'s attribute ``name`` (no namespace), or NULL."""
    cdef tree.xmlAttr* a = n.properties
    while a is not NULL:
        if a.ns is NULL and strcmp(<const char*>a.name, name) == 0:
            return a
        a = a.next
    return NULL


cdef bint _attribute_is(tree.xmlNode* n, const char* name, const char* value) except -1:
    """``n.get(name) == value`` (an ASCII ``value``), compared in C when the attribute's
    value is one text node (nearly always), without a Python string for it."""
    cdef tree.xmlAttr* a = _plain_attribute(n, name)
    if a is NULL:
        return False
    if a.children is not NULL and a.children.next is NULL and _is_text(a.children):
        return a.children.content is not NULL and strcmp(
            <const char*>a.children.content, value) == 0
    return _attribute(n, name) == value.decode("ascii")


cdef inline tree.xmlNode* _following(tree.xmlNode* n, tree.xmlNode* top) noexcept:
    """The node after ``n`` and its subtree in document order, inside ``top``; NULL past
    ``top``'s end. With a step down to a node's first child, a walk of ``top`` in order."""
    while n is not top and n.next is NULL:
        n = n.parent
    return NULL if n is top else n.next


cdef struct _Measure:
    Py_ssize_t emitted  # characters of collapse(text) so far
    Py_ssize_t first  # index among them of the first that is not white space, or -1
    Py_ssize_t last  # of the last
    bint run  # the last character read was one collapse folds


cdef void _measure_text(tree.xmlNode* n, _Measure* m, bint fold) noexcept:
    """Add the characters of the text node ``n`` to ``m``: with ``fold``, as collapse shows
    them (a run of folded characters is one space)."""
    cdef const unsigned char* c = <const unsigned char*>n.content
    cdef unsigned int ch  # a code point (not Py_UCS4, which Cython may turn into a str)
    cdef unsigned char b
    cdef int extra
    if c is NULL:
        return
    while c[0] != 0:
        b = c[0]
        if b < 0x80:  # UTF-8, decoded here: libxml2 holds it valid
            ch = b
            c += 1
        else:
            if b >= 0xf0:
                ch = b & 0x07
                extra = 3
            elif b >= 0xe0:
                ch = b & 0x0f
                extra = 2
            else:
                ch = b & 0x1f
                extra = 1
            c += 1
            while extra and c[0] != 0:
                ch = (ch << 6) | (c[0] & 0x3f)
                c += 1
                extra -= 1
        if fold and ch <= 32 and FOLDS[ch]:
            if m.run:
                continue
            m.run = True
            ch = 32
        else:
            m.run = False
        if not Py_UNICODE_ISSPACE(<Py_UCS4>ch):
            if m.first < 0:
                m.first = m.emitted
            m.last = m.emitted
        m.emitted += 1


cdef Py_ssize_t _stripped_length(tree.xmlNode* top, bint fold) except -2:
    """``len(text.strip())`` of ``top``'s text content (its text and CDATA nodes, what
    ``tostring(method="text")`` gives), ``collapse``d first with ``fold``; -1 when the subtree
    holds an entity reference (the caller then asks the Python way)."""
    cdef _Measure m
    cdef tree.xmlNode* n = top.children
    m.emitted, m.first, m.last, m.run = 0, -1, -1, False
    while n is not NULL:
        if _is_text(n):
            _measure_text(n, &m, fold)
        elif n.type == tree.XML_ENTITY_REF_NODE:
            return -1
        elif n.type == tree.XML_ELEMENT_NODE and n.children is not NULL:
            n = n.children
            continue
        n = _following(n, top)
    return m.last - m.first + 1 if m.first >= 0 else 0


def votes(_Element root not None, tuple tags, Py_ssize_t least):
    """What maincontent's ``_votes`` asks of each element named in ``tags`` under ``root``
    (and root), in document order: (element, the length of its collapsed, stripped text, the
    stripped lengths of the links in it added up) for those whose text is ``least``
    characters or more; None when the tree holds an entity reference."""
    cdef _Document doc = root._doc
    cdef tree.xmlNode* top = root._c_node
    cdef tree.xmlNode* n = top
    cdef tree.xmlNode* a
    cdef Py_ssize_t weight, links, got
    cdef list out = []
    cdef bytes name
    cdef list names = [t.encode("utf-8") for t in tags]
    cdef bint hit
    while n is not NULL:
        if n.type == tree.XML_ELEMENT_NODE:
            hit = False
            if n.ns is NULL:
                for name in names:
                    if strcmp(<const char*>n.name, <const char*>name) == 0:
                        hit = True
                        break
            if hit:
                weight = _stripped_length(n, True)
                if weight < 0:
                    return None
                if weight >= least:
                    links = 0
                    a = n.children
                    while a is not NULL:  # every <a> below, nested ones too (iter("a"))
                        if a.type == tree.XML_ELEMENT_NODE:
                            if a.ns is NULL and strcmp(<const char*>a.name, "a") == 0:
                                got = _stripped_length(a, False)
                                if got < 0:
                                    return None
                                links += got
                            if a.children is not NULL:
                                a = a.children
                                continue
                        a = _following(a, n)
                    out.append((elementFactory(doc, n), weight, links))
            if n.children is not NULL:
                n = n.children
                continue
        n = _following(n, top)
    return out


#: The words parse's "Updated:" search looks for first (its _UPDATED_FRAGMENTS), which
#: cw_mentions_updated knows by heart.
UPDATED_FRAGMENTS = ("pdated", "PDATED", "odified", "ODIFIED", "evised", "EVISED")


def mentions_any(str text, tuple words):
    """``any(w in text for w in words)``; for UPDATED_FRAGMENTS and a text of one byte a
    character (nearly all), one pass that compares words only where a "d" stands."""
    if PyUnicode_KIND(text) == 1 and words == UPDATED_FRAGMENTS:
        return bool(cw_mentions_updated(<const unsigned char*>PyUnicode_DATA(text), len(text)))
    for w in words:
        if w in text:
            return True
    return False


def fold_lines(str text):
    """scraper.outside's ``_fold_lines``: every line of ``text`` as ``" ".join(line.split())``,
    blank lines dropped, in one pass. A run of white space (what ``str.split`` splits on)
    holding a line break becomes one line break, any other run one space, and the ends go."""
    cdef Py_ssize_t n = len(text), i, size = 0
    cdef int kind = PyUnicode_KIND(text)
    cdef void* data = PyUnicode_DATA(text)
    cdef Py_UCS4 c
    cdef void* buf
    cdef bint space = False, newline = False
    if n == 0:
        return text
    buf = PyMem_Malloc(n * kind)  # what is kept is text's own characters, line breaks, spaces
    if buf is NULL:
        raise MemoryError()
    try:
        for i in range(n):
            c = PyUnicode_READ(kind, data, i)
            if c == 10:
                newline = True
            elif Py_UNICODE_ISSPACE(c):
                space = True
            else:
                if size and (newline or space):
                    PyUnicode_WRITE(kind, buf, size, 10 if newline else 32)
                    size += 1
                newline = space = False
                PyUnicode_WRITE(kind, buf, size, c)
                size += 1
        return PyUnicode_FromKindAndData(kind, buf, size)
    finally:
        PyMem_Free(buf)


def outside_raw(_Element body not None, main, tuple skipped, dict kinds):
    """scraper.outside's ``_lines`` text of ``body`` before it is folded, with ``main`` (when not
    None) read as scraper.outside's ``outside_text`` leaves it: the ``skipped`` elements, then a
    line break, in its place. ``kinds``: tag -> 1 (a line tag) or 2 (a widget). The tree is
    left as it is. None when a skipped element holds another (the Python way decides)."""
    cdef _Lines lines = _Lines()
    cdef tree.xmlNode* hole = NULL
    cdef tree.xmlNode* p
    cdef _Element el
    cdef set tops
    lines.parts, lines.kinds = [], kinds
    if main is not None:
        hole = (<_Element?>main)._c_node
        if skipped:
            tops = {<size_t>(<_Element?>e)._c_node for e in skipped}
            for el in skipped:
                p = el._c_node.parent
                while p is not NULL:
                    if <size_t>p in tops:
                        return None
                    p = p.parent
    lines.subtree(body._c_node, hole, list(skipped))
    return "".join(lines.parts)
