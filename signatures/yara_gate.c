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
static int hex_body_char(char c)
{
	switch (c) {
	case '?': case '~': case '[': case ']': case '-': case '(': case ')':
	case '|': case ' ': case '\t': case '\r': case '\n':
		return 1;
	default:
		return is_digit(c) || (c >= 'a' && c <= 'f') ||
		       (c >= 'A' && c <= 'F');
	}
}

static int skip_hex(lexer *l)
{
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
		if (!hex_body_char(c))
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
 * libyara 4.2's pe module, on an object that does not start with "MZ",
 * finds no PE header and sets only its upper-case constants and is_pe
 * (0); every other member stays undefined, and these functions return
 * undefined (each starts by checking that the module found a PE, or
 * reads a member that is then undefined).
 */
static const char *const pe_undefined_funcs[] = {
	"exports", "exports_index", "imphash", "imports", "is_dll",
	"is_32bit", "is_64bit", "locale", "language", "calculate_checksum",
	"rva_to_offset", NULL
};

static int in_list(token t, const char *const *list)
{
	for (; *list; list++)
		if (tok_is(t, T_IDENT, *list))
			return 1;
	return 0;
}

/* Words that may end a term of a comparison without making its value
 * undefined when an operand is: quantifiers, `at`, `in`, `defined`... */
static const char *const pe_term_stop[] = {
	"or", "of", "at", "in", "for", "defined", "not", "them", "all",
	"any", "none", NULL
};

/*
 * At t, the start of a term: 1 and l moved to the end of the term (the
 * next top-level `and` or the closer) when the term reads `not`* then
 * `pe.NAME`, NAME a data member of the pe module or one of the
 * functions above, followed only by operators that keep an undefined
 * operand undefined (comparisons, arithmetic, contains, matches...).
 * On an object not starting "MZ" such a term is undefined, which YARA
 * treats as false in an `and` chain, so the rule cannot match there.
 */
static int pe_term(lexer *l, token t, const char *closer)
{
	lexer look = *l, peek;
	int depth = 0, upper = 1, call;
	token n;

	while (tok_is(t, T_IDENT, "not"))
		t = next(&look);
	if (!tok_is(t, T_IDENT, "pe") || !tok_is(next(&look), T_PUNCT, "."))
		return 0;
	n = next(&look);
	if (n.kind != T_IDENT)
		return 0;
	peek = look;
	call = tok_is(next(&peek), T_PUNCT, "(");
	for (size_t i = 0; i < n.n; i++)
		if (n.s[i] >= 'a' && n.s[i] <= 'z')
			upper = 0;
	if (in_list(n, pe_undefined_funcs)) {
		if (!call)
			return 0;
	} else if (call || upper || tok_is(n, T_IDENT, "is_pe") ||
	           tok_is(n, T_IDENT, "section_index") ||
	           tok_is(n, T_IDENT, "rich_signature")) {
		return 0;
	}
	for (;;) {
		lexer before = look;
		token u = next(&look);

		if (u.kind == T_END || u.kind == T_BAD || u.kind == T_HEX)
			return 0;
		if (depth == 0 && (tok_is(u, T_IDENT, "and") ||
		                   tok_is(u, T_PUNCT, closer))) {
			*l = before;
			return 1;
		}
		if (tok_is(u, T_PUNCT, "(") || tok_is(u, T_PUNCT, "[")) {
			if (++depth > MAX_NESTING)
				return 0;
		} else if (tok_is(u, T_PUNCT, ")") || tok_is(u, T_PUNCT, "]")) {
			if (--depth < 0)
				return 0;
		} else if (tok_is(u, T_PUNCT, "{") || tok_is(u, T_PUNCT, "}")) {
			return 0;
		} else if (depth == 0 && in_list(u, pe_term_stop)) {
			return 0;
		}
	}
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
			if (term_start && (mz_test(l, t, closer) ||
			                   pe_term(l, t, closer)))
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
static int gated_rule(lexer *l, token *name, const char **cond)
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
			*cond = l->p;
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
			const char *cond;
			if (gated_rule(&l, &name, &cond) != 1)
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
	size_t cond;       /* where its condition starts (after ':') */
	token name;
	int gated;
	unsigned mods;     /* bit i: it names the module of imports[i] */
	int where;         /* VG_GATE_* bits: the texts it goes to */
	size_t group;      /* rules naming each other share a group */
	int gflags;        /* at a group's root: 1 some rule is not gated,
	                    * 2 some rule names a module */
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
			const char *cond = NULL;
			int g;
			if (f->nrules == f->cap) {
				size_t ncap = f->cap ? f->cap * 2 : 64;
				split_rule *nr = realloc(f->rules, ncap * sizeof *nr);
				if (!nr)
					return -1;
				f->rules = nr;
				f->cap = ncap;
			}
			if ((g = gated_rule(&l, &name, &cond)) < 0)
				return 0;
			r = &f->rules[f->nrules++];
			r->start = (size_t)((mod_start ? mod_start : t.s) - src);
			r->cond = (size_t)(cond - src);
			r->end = (size_t)(l.p - src);
			r->name = name;
			r->gated = g;
			r->mods = 0;
			r->group = f->nrules - 1;
			mod_start = NULL;
		} else {
			return 0; /* include, or anything unexpected */
		}
	}
}

static size_t group_of(split_file *f, size_t i)
{
	while (f->rules[i].group != i) {
		f->rules[i].group = f->rules[f->rules[i].group].group;
		i = f->rules[i].group;
	}
	return i;
}

/*
 * Which modules each rule names, and which rules of the file a rule
 * names (the two then share a group, which goes to one place).
 * Every identifier of the rule's condition counts: only a condition
 * can name a rule or a module (meta, strings and tags hold literals,
 * string modifiers and tag names), and more than needed is only
 * slower. -1 on ENOMEM.
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
		lexer l = { src + r->cond, src + r->end, 0 };
		token t;

		while ((t = next(&l)).kind != T_END && t.kind != T_BAD) {
			if (t.kind != T_IDENT)
				continue;
			for (size_t m = 0; m < f->nimports; m++)
				if (same_token(t, f->imports[m].module))
					r->mods |= 1u << m;
			for (size_t k = name_hash(t.s, t.n) & (nb - 1); slots[k];
			     k = (k + 1) & (nb - 1))
				if (same_token(f->rules[slots[k] - 1].name, t))
					f->rules[group_of(f, slots[k] - 1)].group =
						group_of(f, i);
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
	/* a group is gated when all its rules are, and needs a module
	 * when one of them does: its root gathers that in gflags */
	for (size_t i = 0; i < f.nrules; i++) {
		f.rules[i].gflags = 0;
		all_gated &= f.rules[i].gated;
	}
	for (size_t i = 0; i < f.nrules && !f.whole; i++)
		f.rules[group_of(&f, i)].gflags |=
			(f.rules[i].gated ? 0 : 1) | (f.rules[i].mods ? 2 : 0);
	for (size_t i = 0; i < f.nrules && !f.whole; i++) {
		split_rule *r = &f.rules[i];
		int g = f.rules[group_of(&f, i)].gflags;
		/* a rule needing a module goes to both halves: on an "MZ"
		 * object it runs with the gated rules' module, on any other
		 * with the few that need it there too */
		r->where = !(g & 1) ? VG_GATE_MZ
		         : (g & 2) ? VG_GATE_MZ | VG_GATE_NOT_MZ : VG_GATE_ALL;
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

/* ------------------------------------------------------------------ */
/* The not-MZ half without the pe module                               */
/* ------------------------------------------------------------------ */

/* An integer YARA cannot read: undefined on every object, as the pe
 * module's members are on objects not starting "MZ". */
static const char undefined_int[] = "uint8(filesize)";
static const char undefined_cmp[] = "(uint8(filesize) == 0)";

/* Operators that keep an undefined operand undefined (libyara's
 * ensure_defined), between two operands. */
static int is_binop(token t)
{
	static const char *const ops[] = {
		"==", "!=", "<", ">", "<=", ">=", "&", "|", "^", "+", "-",
		"*", "\\", "%", "<<", ">>", NULL
	};

	if (t.kind != T_PUNCT)
		return 0;
	for (const char *const *o = ops; *o; o++)
		if (tok_is(t, T_PUNCT, *o))
			return 1;
	return 0;
}

/* String operators whose result is undefined when an operand is. */
static int is_strop(token t)
{
	static const char *const words[] = {
		"contains", "icontains", "startswith", "istartswith",
		"endswith", "iendswith", "iequals", "matches", NULL
	};

	return tok_is(t, T_PUNCT, "==") || tok_is(t, T_PUNCT, "!=") ||
	       (t.kind == T_IDENT && in_list(t, words));
}

/* Steps over a bracketed group opened by `open` (already read). */
static int skip_group(lexer *l, const char *open, const char *close)
{
	int depth = 1;

	while (depth > 0) {
		token t = next(l);
		if (t.kind == T_END || t.kind == T_BAD)
			return 0;
		if (tok_is(t, T_PUNCT, open))
			depth++;
		else if (tok_is(t, T_PUNCT, close))
			depth--;
		else if (tok_is(t, T_PUNCT, "{") || tok_is(t, T_PUNCT, "}"))
			return 0;
	}
	return 1;
}

typedef struct out_buf {
	char *p;
	size_t n, cap;
} out_buf;

static int out_put(out_buf *o, const char *s, size_t n)
{
	if (o->n + n + 1 > o->cap) {
		size_t ncap = (o->n + n + 1) * 2;
		char *np = realloc(o->p, ncap);
		if (!np)
			return -1;
		o->p = np;
		o->cap = ncap;
	}
	memcpy(o->p + o->n, s, n);
	o->n += n;
	o->p[o->n] = '\0';
	return 0;
}

/* Replaces src[from..to) by rep, keeping the span's newlines. */
static int out_replace(out_buf *o, const char *from, const char *to,
                       const char *rep)
{
	if (out_put(o, rep, strlen(rep)) < 0)
		return -1;
	for (const char *c = from; c < to; c++)
		if (*c == '\n' && out_put(o, "\n", 1) < 0)
			return -1;
	return 0;
}

int vg_yara_gate_unpe(const char *src, size_t len, char **out,
                      size_t *outlen)
{
	lexer l = { src, src + len, 0 };
	out_buf o = { NULL, 0, 0 };
	const char *copied = src;   /* src is in o up to here */
	const char *undef_end = NULL; /* end of the last undefined span */
	int changed = 0;

	*out = NULL;
	*outlen = 0;
	for (;;) {
		const char *at = l.p;
		lexer look;
		token t = next(&l), n, u;
		const char *end;
		const char *rep = undefined_int;

		if (t.kind == T_END)
			break;
		if (t.kind == T_BAD)
			goto keep;
		if (tok_is(t, T_IDENT, "import")) {
			token m = next(&l);
			if (m.kind != T_STR)
				goto keep;
			if (tok_is(m, T_STR, "\"pe\"")) {
				/* blanked: nothing may name pe by the end */
				if (out_put(&o, copied, (size_t)(t.s - copied)) < 0 ||
				    out_replace(&o, t.s, l.p, "") < 0)
					goto nomem;
				copied = l.p;
			}
			continue;
		}
		if (is_binop(t) && undef_end && at == undef_end) {
			/* `U op pe.CONST`: the constant may be undefined too */
			look = l;
			if (tok_is(next(&look), T_IDENT, "pe") &&
			    tok_is(next(&look), T_PUNCT, ".")) {
				n = next(&look);
				int upper = n.kind == T_IDENT;
				for (size_t i = 0; i < n.n; i++)
					if (n.s[i] >= 'a' && n.s[i] <= 'z')
						upper = 0;
				if (upper) {
					const char *cs = l.p;
					while (cs < l.end && is_space(*cs))
						cs++;
					if (out_put(&o, copied, (size_t)(cs - copied)) < 0 ||
					    out_replace(&o, cs, look.p, undefined_int) < 0)
						goto nomem;
					copied = look.p;
					undef_end = look.p;
					l = look;
					changed = 1;
					continue;
				}
			}
		}
		if (!tok_is(t, T_IDENT, "pe"))
			continue;
		look = l;
		if (!tok_is(next(&look), T_PUNCT, "."))
			goto keep;
		n = next(&look);
		if (n.kind != T_IDENT)
			goto keep;
		if (tok_is(n, T_IDENT, "is_pe")) {
			rep = "0"; /* what the module sets on any object not "MZ" */
		} else {
			int upper = 1;
			for (size_t i = 0; i < n.n; i++)
				if (n.s[i] >= 'a' && n.s[i] <= 'z')
					upper = 0;
			if (upper || tok_is(n, T_IDENT, "section_index") ||
			    tok_is(n, T_IDENT, "rich_signature"))
				goto keep;
			if (in_list(n, pe_undefined_funcs)) {
				if (!tok_is(next(&look), T_PUNCT, "(") ||
				    !skip_group(&look, "(", ")"))
					goto keep;
			}
			/* then members and indexes, no call */
			for (;;) {
				lexer peek = look;
				u = next(&peek);
				if (tok_is(u, T_PUNCT, "[")) {
					if (!skip_group(&peek, "[", "]"))
						goto keep;
				} else if (tok_is(u, T_PUNCT, ".")) {
					if (next(&peek).kind != T_IDENT)
						goto keep;
				} else if (tok_is(u, T_PUNCT, "(")) {
					goto keep;
				} else {
					break;
				}
				look = peek;
			}
			/* `P op "text"`: a string comparison, undefined as a
			 * whole (an integer P would not compile in its place) */
			{
				lexer peek = look;
				u = next(&peek);
				if (is_strop(u)) {
					token lit = next(&peek);
					if (lit.kind == T_STR || lit.kind == T_REGEX) {
						look = peek;
						rep = undefined_cmp;
					}
				}
			}
		}
		end = look.p;
		if (out_put(&o, copied, (size_t)(t.s - copied)) < 0 ||
		    out_replace(&o, t.s, end, rep) < 0)
			goto nomem;
		copied = end;
		undef_end = rep == undefined_int ? end : NULL;
		l = look;
		changed = 1;
		continue;
	keep:
		/* something names pe in a way not replaced: the module stays */
		free(o.p);
		return 0;
	}
	if (!changed) {
		free(o.p);
		return 0;
	}
	if (out_put(&o, copied, (size_t)(src + len - copied)) < 0)
		goto nomem;
	*out = o.p;
	*outlen = o.n;
	return 1;
nomem:
	free(o.p);
	return -1;
}
