// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The nftables ruleset of a network namespace of the tree's own, kept as
 * CRIU keeps it: the text libnftables lists, in a raw image
 * (nftables-ID.img), given back to libnftables at restore.  ocicr is
 * inside the namespace.  Left out: the network lock's tables ("inet
 * CRIU-*": the restore makes its own), and tables iptables-nft manages
 * (given back by nft they would be plain tables iptables cannot edit,
 * its lock's rules among them).
 */
#include <errno.h>
#include <fcntl.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "img/image.h"
#include "res/ns/net.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

static void nft_freep(struct nft_ctx **nft)
{
	if (*nft)
		nft_ctx_free(*nft);
}

#define _cleanup_nft_ __attribute__((cleanup(nft_freep)))

static int nft_ctx_open(struct nft_ctx **ret)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);

	if (!nft || nft_ctx_buffer_output(nft) || nft_ctx_buffer_error(nft)) {
		if (nft)
			nft_ctx_free(nft);
		return oc_error(-ENOMEM, "cannot start libnftables");
	}
	*ret = nft;
	return 0;
}

static int nft_do(struct nft_ctx *nft, const char *cmd)
{
	const char *err;

	if (nft_run_cmd_from_buffer(nft, cmd) == 0)
		return 0;
	err = nft_ctx_get_error_buffer(nft);
	return oc_error(-EIO, "nft '%.40s' failed: %.*s", cmd, err ? (int)strcspn(err, "\n") : 0, err ? err : "");
}

/* Table "FAMILY NAME" listed, appended to *@text (*@len bytes so far). */
static int table_append(struct nft_ctx *nft, const char *family, const char *name, char **text, size_t *len)
{
	char cmd[160];
	const char *out, *err;
	size_t n;
	char *t;
	int r;

	snprintf(cmd, sizeof(cmd), "list table %s %s", family, name);
	r = nft_do(nft, cmd);
	if (r < 0)
		return r;
	err = nft_ctx_get_error_buffer(nft);
	if (err && strstr(err, "managed by iptables-nft")) {
		pr_warn("nftables table %s %s is iptables-nft's: not saved with the ruleset", family, name);
		return 0;
	}
	out = nft_ctx_get_output_buffer(nft) ?: "";
	n = strlen(out);
	t = realloc(*text, *len + n + 2);
	if (!t)
		return -ENOMEM;
	memcpy(t + *len, out, n);
	*len += n;
	if (n && t[*len - 1] != '\n')
		t[(*len)++] = '\n';
	t[*len] = '\0';
	*text = t;
	return 0;
}

int oc_net_nft_dump(struct oc_imgdir *dir, uint32_t id)
{
	_cleanup_nft_ struct nft_ctx *nft = NULL;
	_cleanup_free_ char *tables = NULL, *text = NULL;
	size_t len = 0;
	char *save = NULL;
	int r;

	r = nft_ctx_open(&nft);
	if (r >= 0)
		r = nft_do(nft, "list tables");
	if (r < 0)
		return oc_error_wrap(r, "cannot list the namespace's nftables tables");
	tables = strdup(nft_ctx_get_output_buffer(nft) ?: "");
	if (!tables)
		return -ENOMEM;
	for (char *line = strtok_r(tables, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char family[16], name[128];
		if (sscanf(line, "table %15s %127s", family, name) != 2)
			continue;
		if (!strcmp(family, "inet") && !strncmp(name, "CRIU-", 5))
			continue; /* the lock */
		r = table_append(nft, family, name, &text, &len);
		if (r < 0)
			return oc_error_wrap(r, "cannot save nftables table %s %s", family, name);
	}
	return oc_net_raw_save(dir, OC_IMG_NFTABLES, id, text, len);
}

int oc_net_nft_restore(struct oc_imgdir *dir, uint32_t id)
{
	_cleanup_nft_ struct nft_ctx *nft = NULL;
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int fd = -1;
	size_t size;
	int r;

	r = oc_net_raw_open(dir, "nftables", id, &fd, &size);
	if (r < 0 || fd < 0)
		return r;
	text = malloc(size + 1);
	if (!text)
		return -ENOMEM;
	if (pread(fd, text, size, 0) != (ssize_t)size)
		return oc_error_errno(-EIO, "cannot read nftables-%u.img", id);
	text[size] = '\0';
	r = nft_ctx_open(&nft);
	if (r >= 0)
		r = nft_do(nft, text);
	return r < 0 ? oc_error_wrap(r, "nftables-%u.img: the namespace's nftables ruleset", id) : 0;
}
