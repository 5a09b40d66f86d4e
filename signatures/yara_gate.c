/*
 * yara_gate.c - classifies a YARA source file as MZ-gated or not with a
 * small tokenizer over its text. The tokenizer knows just enough of the
 * YARA lexer (comments, text strings, regular expressions, hex strings)
 * that words inside them never count; anything unexpected makes the
 * answer "not gated", which costs speed but never a match.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/bytes.h"
#include "signatures/yara_gate.h"

enum tok_kind {
	T_END,   /* end of the text */
	T_BAD,   /* something this tokenizer does not understand */
	T_IDENT, /* keyword or identifier, $a* #a @a !a included */
	T_NUM,
	T_STR,   /* "text" */
	T_REGEX, /* /re/is */
	T_HEX,   /* { 4D 5A ?? } after '=' */
	T_PUNCT, /* an operator or bracket, one or two characters */
};

typedef struct token {
	enum tok_kind kind;
	const char *s;
	size_t n;
} token;

typedef struct lexer {
	const char *p, *end;
	int after_eq; /* the last token was '=': '{' opens a hex string */
} lexer;

static int is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

/* Skips blanks and comments; 0 on an unterminated comment. */
static int skip_blank(lexer *l)
{
	while (l->p < l->end) {
		if (is_space(*l->p)) {
			l->p++;
		} else if (*l->p == '/' && l->end - l->p >= 2 && l->p[1] == '/') {
			while (l->p < l->end && *l->p != '\n')
				l->p++;
		} else if (*l->p == '/' && l->end - l->p >= 2 && l->p[1] == '*') {
			const char *q = l->p + 2;
			while (l->end - q >= 2 && !(q[0] == '*' && q[1] == '/'))
				q++;
			if (l->end - q < 2)
				return 0;
			l->p = q + 2;
		} else {
			break;
		}
	}
	return 1;
}

/* Text string or regex body up to the unescaped closing quote; both end
 * at a newline in YARA, so a newline is an error here too. */
static int skip_quoted(lexer *l, char quote)
{
	l->p++; /* the opening quote */
	while (l->p < l->end) {
		char c = *l->p;
		if (c == '\n')
			return 0;
		if (c == '\\') {
			if (l->end - l->p < 2 || l->p[1] == '\n')
				return 0;
			l->p += 2;
			continue;
		}
		l->p++;
		if (c == quote)
			return 1;
	}
	return 0;
}

/* Hex string body: only what hex strings hold, comments included; a
 * comment holding '}' is left to the safe answer, as is anything else. */
static int skip_hex(lexer *l)
{
	static const char ok[] = "0123456789abcdefABCDEF?~[]-()| \t\r\n";

	l->p++; /* '{' */
	while (l->p < l->end) {
		const char *comment = l->p;
		char c;

		if (*l->p == '/') {
			if (!skip_blank(l) || l->p == comment)
				return 0;
			if (memchr(comment, '}', (size_t)(l->p - comment)))
				return 0;
			continue;
		}
		c = *l->p++;
		if (c == '}')
			return 1;
		if (!c || !strchr(ok, c))
			return 0;
	}
	return 0;
}

static token next(lexer *l)
{
	static const char *const two[] = { "==", "!=", "<=", ">=", "<<", ">>",
	                                   ".." };
	token t = { T_BAD, NULL, 0 };
	int after_eq = l->after_eq;
	char c;

	l->after_eq = 0;
	if (!skip_blank(l))
		return t;
	t.s = l->p;
	if (l->p >= l->end) {
		t.kind = T_END;
		return t;
	}
	c = *l->p;
	if (c == '"') {
		if (!skip_quoted(l, '"'))
			return t;
		t.kind = T_STR;
	} else if (c == '/') {
		/* not a comment (skip_blank took those): YARA divides with '\',
		 * so '/' always opens a regex */
		if (!skip_quoted(l, '/'))
			return t;
		while (l->p < l->end && (*l->p == 'i' || *l->p == 's'))
			l->p++;
		t.kind = T_REGEX;
	} else if (c == '{' && after_eq) {
		if (!skip_hex(l))
			return t;
		t.kind = T_HEX;
	} else if (is_alpha(c) || c == '$' || c == '#' || c == '@' ||
	           (c == '!' && !(l->end - l->p >= 2 && l->p[1] == '='))) {
		l->p++;
		while (l->p < l->end && (is_alpha(*l->p) || is_digit(*l->p) ||
		                         *l->p == '*'))
			l->p++;
		t.kind = T_IDENT;
	} else if (is_digit(c)) {
		if (c == '0' && l->end - l->p >= 2 && (l->p[1] == 'x' ||
		                                       l->p[1] == 'X')) {
			l->p += 2;
		} else {
			while (l->p < l->end && is_digit(*l->p))
				l->p++;
			if (l->end - l->p >= 2 && l->p[0] == '.' && is_digit(l->p[1]))
				l->p++;
		}
		/* digits, hex digits, KB/MB suffixes */
		while (l->p < l->end && (is_digit(*l->p) || is_alpha(*l->p)))
			l->p++;
		t.kind = T_NUM;
	} else {
		t.kind = T_PUNCT;
		l->p++;
		for (size_t i = 0; i < sizeof two / sizeof two[0]; i++) {
			if (l->end - t.s >= 2 && memcmp(t.s, two[i], 2) == 0) {
				l->p = t.s + 2;
				break;
			}
		}
		l->after_eq = l->p - t.s == 1 && c == '=';
	}
	if (c == '\0')
		t.kind = T_BAD;
	t.n = (size_t)(l->p - t.s);
	return t;
}

static int tok_is(token t, enum tok_kind kind, const char *text)
{
	size_t n = strlen(text);

	return t.kind == kind && t.n == n && memcmp(t.s, text, n) == 0;
}

/* Brackets nest no deeper than this in a gated condition. */
#define MAX_NESTING 32

/* 1 when the next token ends a term of a chain closed by `closer`. */
static int ends_term(const lexer *l, const char *closer)
{
	lexer look = *l;
	token t = next(&look);

	return tok_is(t, T_IDENT, "and") || tok_is(t, T_PUNCT, closer);
}

/*
 * At "uint16" or "uint16be" (t): 1 and l moved past the comparison when
 * the tokens read `uint16(0) == 0x5a4d` or `uint16be(0) == 0x4d5a` and
 * the next token ends the term (`and`, or the chain's closer).
 */
static int mz_test(lexer *l, token t, const char *closer)
{
	const char *want;
	lexer look = *l;
	token v;

	if (tok_is(t, T_IDENT, "uint16"))
		want = "0x5a4d";
	else if (tok_is(t, T_IDENT, "uint16be"))
		want = "0x4d5a";
	else
		return 0;
	if (!tok_is(next(&look), T_PUNCT, "(") ||
	    !tok_is(next(&look), T_NUM, "0") ||
	    !tok_is(next(&look), T_PUNCT, ")") ||
	    !tok_is(next(&look), T_PUNCT, "=="))
		return 0;
	v = next(&look);
	if (v.kind != T_NUM || v.n != 6 || strncasecmp(v.s, want, 6) != 0)
		return 0;
	if (!ends_term(&look, closer))
		return 0;
	*l = look;
	return 1;
}

/*
 * Reads an expression up to `closer` ("}" for a whole condition, ")" for
 * a bracketed term) at its own top level; 0 when the text is not
 * understood. *gated tells whether the expression is an `and` chain (no
 * `or` outside brackets, no leading `not`) one of whose terms is the MZ
 * test or a bracketed chain that is itself gated. `not` binds tighter
 * than `and`, and `==` tighter than both, so what lies between two
 * top-level `and`s (or the expression's ends) is a whole operand.
 */
static int read_chain(lexer *l, const char *closer, int level, int *gated)
{
	int depth = 0, found = 0, first = 1, term_start = 1, has_or = 0;

	*gated = 0;
	if (level > MAX_NESTING)
		return 0;
	for (;;) {
		token t = next(l);
		int inner;

		switch (t.kind) {
		case T_END: case T_BAD: case T_HEX:
			return 0;
		case T_PUNCT:
			if (depth == 0 && tok_is(t, T_PUNCT, closer)) {
				*gated = found && !has_or;
				return 1;
			}
			if (term_start && tok_is(t, T_PUNCT, "(")) {
				if (!read_chain(l, ")", level + 1, &inner))
					return 0;
				if (inner && ends_term(l, closer))
					found = 1;
			} else if (tok_is(t, T_PUNCT, "(") || tok_is(t, T_PUNCT, "[")) {
				if (++depth > MAX_NESTING)
					return 0;
			} else if (tok_is(t, T_PUNCT, ")") || tok_is(t, T_PUNCT, "]")) {
				if (--depth < 0)
					return 0;
			} else if (tok_is(t, T_PUNCT, "}") || tok_is(t, T_PUNCT, "{")) {
				return 0;
			}
			break;
		case T_IDENT:
			if (depth > 0)
				break;
			if (tok_is(t, T_IDENT, "or"))
				has_or = 1;
			if (first && tok_is(t, T_IDENT, "not"))
				has_or = 1; /* not a chain we know to be gated */
			if (tok_is(t, T_IDENT, "and")) {
				term_start = 1;
				first = 0;
				continue;
			}
			if (term_start && mz_test(l, t, closer))
				found = 1;
			break;
		default:
			break;
		}
		first = 0;
		term_start = 0;
	}
}

/* A condition up to the rule's closing '}': 1 when gated, 0 when not,
 * -1 when the text is not understood. */
static int gated_condition(lexer *l)
{
	int gated;

	if (!read_chain(l, "}", 0, &gated))
		return -1;
	return gated;
}

/* After "rule": the name (in *name), tags, '{', then everything up to
 * "condition:" (meta and strings, whose texts, regexes and hex strings
 * the tokenizer steps over), then the condition up to the rule's '}'.
 * 1 when the rule is gated, 0 when not, -1 when not understood. */
static int gated_rule(lexer *l, token *name)
{
	token t;

	*name = next(l);
	if (name->kind != T_IDENT)
		return -1;
	t = next(l);
	if (tok_is(t, T_PUNCT, ":")) {
		while ((t = next(l)).kind == T_IDENT)
			;
	}
	if (!tok_is(t, T_PUNCT, "{"))
		return -1;
	for (;;) {
		t = next(l);
		if (t.kind == T_END || t.kind == T_BAD ||
		    tok_is(t, T_PUNCT, "}") || tok_is(t, T_PUNCT, "{"))
			return -1;
		if (tok_is(t, T_IDENT, "condition")) {
			if (!tok_is(next(l), T_PUNCT, ":"))
				return -1;
			return gated_condition(l);
		}
	}
}

int vg_yara_gate_mz(const char *src, size_t len)
{
	lexer l = { src, src + len, 0 };
	unsigned rules = 0;

	if (!src)
		return 0;
	for (;;) {
		token t = next(&l);

		if (t.kind == T_END)
			return rules > 0;
		if (tok_is(t, T_IDENT, "import")) {
			if (next(&l).kind != T_STR)
				return 0;
		} else if (tok_is(t, T_IDENT, "private") ||
		           tok_is(t, T_IDENT, "global")) {
			continue; /* modifiers of the rule that follows */
		} else if (tok_is(t, T_IDENT, "rule")) {
			token name;
			if (gated_rule(&l, &name) != 1)
				return 0;
			rules++;
		} else {
			return 0; /* include, or anything unexpected */
		}
	}
}

int vg_yara_is_mz(const unsigned char *data, size_t size)
{
	return vg_match(data, size, 0, "MZ", 2);
}

/* ------------------------------------------------------------------ */
/* Splitting a file by rule                                            */
/* ------------------------------------------------------------------ */

/* Imports a file may name and still be split (a bit each). */
#define MAX_IMPORTS 32

typedef struct split_rule {
	size_t start, end; /* its bytes, modifiers included */
	token name;
	int gated;
	unsigned mods;     /* bit i: it names the module of imports[i] */
	int where;         /* VG_GATE_* bits: the texts it goes to */
} split_rule;

typedef struct split_import {
	size_t start, end; /* the whole `import "x"` statement */
	token module;      /* the name, without quotes */
} split_import;

typedef struct split_file {
	split_rule *rules;
	size_t nrules, cap;
	split_import imports[MAX_IMPORTS];
	size_t nimports;
	int whole;         /* the file is not split: one placement for all */
} split_file;

static uint32_t name_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static int same_token(token a, token b)
{
	return a.n == b.n && memcmp(a.s, b.s, a.n) == 0;
}

/* Reads the file's top level into f; 0 when some of it is not
 * understood (then f->whole is set), -1 on ENOMEM. */
static int split_read(const char *src, size_t len, split_file *f)
{
	lexer l = { src, src + len, 0 };
	const char *mod_start = NULL;

	for (;;) {
		token t = next(&l);

		if (t.kind == T_END)
			return mod_start ? 0 : 1;
		if (tok_is(t, T_IDENT, "import") && !mod_start) {
			token m = next(&l);
			split_import *im;
			if (m.kind != T_STR || m.n < 2 || f->nimports == MAX_IMPORTS)
				return 0;
			im = &f->imports[f->nimports++];
			im->start = (size_t)(t.s - src);
			im->end = (size_t)(l.p - src);
			im->module = (token){ T_IDENT, m.s + 1, m.n - 2 };
		} else if (tok_is(t, T_IDENT, "private")) {
			if (!mod_start)
				mod_start = t.s;
		} else if (tok_is(t, T_IDENT, "global")) {
			/* a global rule is a term of every rule of its namespace */
			f->whole = 1;
			if (!mod_start)
				mod_start = t.s;
		} else if (tok_is(t, T_IDENT, "rule")) {
			split_rule *r;
			token name;
			int g;
			if (f->nrules == f->cap) {
				size_t ncap = f->cap ? f->cap * 2 : 64;
				split_rule *nr = realloc(f->rules, ncap * sizeof *nr);
				if (!nr)
					return -1;
				f->rules = nr;
				f->cap = ncap;
			}
			if ((g = gated_rule(&l, &name)) < 0)
				return 0;
			r = &f->rules[f->nrules++];
			r->start = (size_t)((mod_start ? mod_start : t.s) - src);
			r->end = (size_t)(l.p - src);
			r->name = name;
			r->gated = g;
			r->mods = 0;
			mod_start = NULL;
		} else {
			return 0; /* include, or anything unexpected */
		}
	}
}

/*
 * Which modules each rule names, and whether a rule names another rule
 * of the file (then the file stays whole: the two must share a set).
 * Every identifier of the rule's text counts, tags and meta keys
 * included: more than needed is only slower. -1 on ENOMEM.
 */
static int split_refs(const char *src, split_file *f)
{
	size_t nb = 16;
	uint32_t *slots;

	while (nb < 2 * f->nrules)
		nb *= 2;
	if (!(slots = calloc(nb, sizeof *slots)))
		return -1;
	/* rule names, index + 1 per slot; a name twice keeps the file
	 * whole (libyara refuses it, as it must) */
	for (size_t i = 0; i < f->nrules && !f->whole; i++) {
		token n = f->rules[i].name;
		size_t k = name_hash(n.s, n.n) & (nb - 1);
		for (; slots[k]; k = (k + 1) & (nb - 1))
			if (same_token(f->rules[slots[k] - 1].name, n))
				f->whole = 1;
		slots[k] = (uint32_t)i + 1;
	}
	for (size_t i = 0; i < f->nrules && !f->whole; i++) {
		split_rule *r = &f->rules[i];
		lexer l = { src + r->start, src + r->end, 0 };
		token t;

		while ((t = next(&l)).kind != T_END && t.kind != T_BAD) {
			if (t.kind != T_IDENT)
				continue;
			for (size_t m = 0; m < f->nimports; m++)
				if (same_token(t, f->imports[m].module))
					r->mods |= 1u << m;
			for (size_t k = name_hash(t.s, t.n) & (nb - 1); slots[k];
			     k = (k + 1) & (nb - 1))
				if (slots[k] - 1 != i &&
				    same_token(f->rules[slots[k] - 1].name, t))
					f->whole = 1;
		}
		if (t.kind == T_BAD)
			f->whole = 1;
	}
	free(slots);
	return 0;
}

/* A copy of the text with every rule not going to `where` and every
 * import none of them names blanked (newlines kept, so lines still
 * number as in the file). NULL on ENOMEM. */
static char *split_text(const char *src, size_t len, const split_file *f,
                        int where)
{
	char *t = malloc(len + 1);
	unsigned used = 0;

	if (!t)
		return NULL;
	memcpy(t, src, len);
	t[len] = '\0';
	for (size_t i = 0; i < f->nrules; i++) {
		const split_rule *r = &f->rules[i];
		if (r->where & where) {
			used |= r->mods;
			continue;
		}
		for (size_t p = r->start; p < r->end; p++)
			if (t[p] != '\n')
				t[p] = ' ';
	}
	for (size_t m = 0; m < f->nimports; m++) {
		if (used & (1u << m))
			continue;
		for (size_t p = f->imports[m].start; p < f->imports[m].end; p++)
			if (t[p] != '\n')
				t[p] = ' ';
	}
	return t;
}

int vg_yara_gate_split(const char *src, size_t len,
                       char *texts[VG_GATE_NSETS])
{
	static const int bit[VG_GATE_NSETS] = { VG_GATE_ALL, VG_GATE_MZ,
	                                        VG_GATE_NOT_MZ };
	split_file f = { .whole = 0 };
	int rc, where = 0, all_gated = 1;

	for (int k = 0; k < VG_GATE_NSETS; k++)
		texts[k] = NULL;
	if (!src)
		src = "", len = 0;
	rc = split_read(src, len, &f);
	if (rc < 0)
		goto nomem;
	if (rc == 0)
		f.whole = 1;
	if (!f.whole && split_refs(src, &f) < 0)
		goto nomem;
	for (size_t i = 0; i < f.nrules; i++) {
		split_rule *r = &f.rules[i];
		/* a rule needing a module goes to both halves: on an "MZ"
		 * object it runs with the gated rules' module, on any other
		 * with the few that need it there too */
		r->where = r->gated ? VG_GATE_MZ
		         : r->mods ? VG_GATE_MZ | VG_GATE_NOT_MZ : VG_GATE_ALL;
		all_gated &= r->gated;
		where |= r->where;
	}
	if (rc == 0 || f.nrules == 0) {
		/* not understood, or no rule: as it is, for every object, in
		 * both halves when it may import a module */
		where = rc != 0 || !memmem(src, len, "import", 6) ? VG_GATE_ALL
		      : VG_GATE_MZ | VG_GATE_NOT_MZ;
		f.nrules = 0;
		f.nimports = 0;
	} else if (f.whole) {
		where = all_gated ? VG_GATE_MZ
		      : f.nimports ? VG_GATE_MZ | VG_GATE_NOT_MZ : VG_GATE_ALL;
		f.nrules = 0;
		f.nimports = 0;
	}
	for (int k = 0; k < VG_GATE_NSETS; k++) {
		if (!(where & bit[k]))
			continue;
		if (!(texts[k] = split_text(src, len, &f, bit[k])))
			goto nomem;
	}
	free(f.rules);
	return 0;
nomem:
	for (int k = 0; k < VG_GATE_NSETS; k++) {
		free(texts[k]);
		texts[k] = NULL;
	}
	free(f.rules);
	return -1;
}
