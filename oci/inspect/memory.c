// SPDX-License-Identifier: GPL-2.0-or-later
/* `ocicr inspect --memory PID`: dump or search one process's saved memory. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oci/inspect/inspect.h"
#include "oci/inspect/json.h"
#include "oci/inspect/limits.h"
#include "oci/inspect/view.h"
#include "ocicr/cleanup.h"
#include "ocicr.h"

#define DUMP_CHUNK (64u * 1024)

static int pages_read(void *userdata, uint64_t off, void *buf, size_t len)
{
	return oc_pages_pread(*(int *)userdata, off, buf, len);
}

/* Printable rendering of memory bytes: anything else becomes '.'. */
static void put_printable(FILE *out, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		fputc(p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '.', out);
}

/* ---- search ------------------------------------------------------------- */

struct search_out {
	FILE *out;
	struct ij_writer *w;
};

static int on_match(const struct oci_match *m, void *userdata)
{
	struct search_out *so = userdata;

	if (so->w) {
		ij_obj_open(so->w);
		ij_kv_u64(so->w, "address", m->addr);
		ij_key(so->w, "match");
		ij_strn(so->w, (const char *)m->bytes, m->len);
		ij_key(so->w, "before");
		ij_strn(so->w, (const char *)m->before, m->before_len);
		ij_key(so->w, "after");
		ij_strn(so->w, (const char *)m->after, m->after_len);
		ij_obj_close(so->w);
		return 0;
	}
	fprintf(so->out, "0x%016" PRIx64 "  ", m->addr);
	put_printable(so->out, m->before, m->before_len);
	put_printable(so->out, m->bytes, m->len);
	put_printable(so->out, m->after, m->after_len);
	fputc('\n', so->out);
	return ferror(so->out) ? oc_error(-EIO, "cannot write the matches") : 0;
}

static int search(const struct oci_memory_opts *o, const struct oc_ckpt_task *t, int pages_fd, FILE *out)
{
	struct oci_memsrc src = {
		.runs = t->pm.runs, .n_runs = t->pm.n_runs, .read = pages_read, .userdata = &pages_fd
	};
	struct oci_search q = { .context = o->context };
	struct search_out so = { .out = out };
	regex_t re;
	bool have_re = false;
	long n;
	int r;

	if (o->search_regex) {
		r = regcomp(&re, o->search_regex, REG_EXTENDED);
		if (r) {
			char msg[256];
			regerror(r, &re, msg, sizeof(msg));
			return oc_error(-EINVAL, "bad regular expression '%s': %s", o->search_regex, msg);
		}
		have_re = true;
		q.re = &re;
	} else {
		q.needle = o->search;
		q.needle_len = strlen(o->search);
	}
	if (o->format == OCI_FORMAT_JSON) {
		r = ij_writer_new(out, true, &so.w);
		if (r < 0)
			goto out;
		ij_obj_open(so.w);
		ij_kv_u64(so.w, "schema_version", 1);
		ij_kv_i64(so.w, "pid", t->pid);
		ij_kv_str(so.w, "comm", t->comm);
		ij_kv_str(so.w, "search", o->search);
		ij_kv_str(so.w, "search_regex", o->search_regex);
		ij_kv_u64(so.w, "context", o->context);
		ij_key(so.w, "matches");
		ij_arr_open(so.w);
	}
	n = pages_fd >= 0 ? oci_mem_search(&src, &q, on_match, &so) : 0;
	if (n < 0) {
		r = n;
		goto out;
	}
	if (so.w) {
		ij_arr_close(so.w);
		ij_kv_u64(so.w, "count", n);
		ij_obj_close(so.w);
		r = ij_writer_finish(so.w);
	} else {
		fprintf(out, "%ld match%s in the memory of process %d (%s)\n", n, n == 1 ? "" : "es", t->pid, t->comm);
		r = fflush(out) ? oc_error_errno(-errno, "cannot write the matches") : 0;
	}
out:
	ij_writer_free(so.w);
	if (have_re)
		regfree(&re);
	return r;
}

/* ---- dump ----------------------------------------------------------------- */

struct dump_state {
	const struct oci_memory_opts *o;
	int pages_fd;
	FILE *out;	  /* listing, or the map when raw */
	int raw_fd;	  /* raw bytes go here */
	uint64_t raw_off; /* bytes written to raw_fd */
	struct ij_writer *w;
	uint8_t *buf;
	uint64_t total;
};

static void hexline(FILE *out, uint64_t addr, const uint8_t *p)
{
	fprintf(out, "%016" PRIx64 " ", addr);
	for (int i = 0; i < 16; i++)
		fprintf(out, "%s %02x", i == 8 ? " " : "", p[i]);
	fputs("  |", out);
	put_printable(out, p, 16);
	fputs("|\n", out);
}

static int dump_segment(uint64_t start, uint64_t end, uint64_t off, void *userdata)
{
	struct dump_state *d = userdata;
	uint8_t prev[16];
	bool have_prev = false, squeezed = false;
	char size[32];
	int r;

	oci_fmt_size(end - start, size, sizeof(size));
	d->total += end - start;
	if (d->w) {
		ij_obj_open(d->w);
		ij_kv_u64(d->w, "start", start);
		ij_kv_u64(d->w, "end", end);
		ij_kv_u64(d->w, "size", end - start);
		ij_key(d->w, "file_offset");
		if (d->raw_fd >= 0)
			ij_u64(d->w, d->raw_off);
		else
			ij_null(d->w);
		ij_obj_close(d->w);
	} else if (d->raw_fd >= 0) {
		fprintf(d->out, "%016" PRIx64 "-%016" PRIx64 "  %10s  at offset %" PRIu64 "\n", start, end, size,
			d->raw_off);
	} else {
		fprintf(d->out, "# %016" PRIx64 "-%016" PRIx64 " (%s)\n", start, end, size);
	}
	if (d->w && d->raw_fd < 0)
		return 0;

	for (uint64_t pos = 0; pos < end - start; pos += DUMP_CHUNK) {
		size_t len = MIN((uint64_t)DUMP_CHUNK, end - start - pos);
		r = oci_time_check();
		if (r < 0)
			return r;
		r = pages_read(&d->pages_fd, off + pos, d->buf, len);
		if (r < 0)
			return r;
		if (d->raw_fd >= 0) {
			for (size_t done = 0; done < len;) {
				ssize_t n = write(d->raw_fd, d->buf + done, len - done);
				if (n < 0 && errno == EINTR)
					continue;
				if (n < 0)
					return oc_error_errno(-errno, "cannot write %s", d->o->output);
				done += n;
			}
			d->raw_off += len;
			continue;
		}
		/* hexdump -C style: a run of identical lines shows as "*". */
		for (size_t i = 0; i < len; i += 16) {
			if (have_prev && !memcmp(prev, d->buf + i, 16)) {
				if (!squeezed)
					fputs("*\n", d->out);
				squeezed = true;
				continue;
			}
			hexline(d->out, start + pos + i, d->buf + i);
			memcpy(prev, d->buf + i, 16);
			have_prev = true;
			squeezed = false;
		}
		if (ferror(d->out))
			return oc_error(-EIO, "cannot write the memory listing");
	}
	if (squeezed && d->raw_fd < 0 && !d->w)
		fprintf(d->out, "%016" PRIx64 "\n", end);
	return 0;
}

static int dump(const struct oci_memory_opts *o, const struct oc_ckpt_task *t, int pages_fd, FILE *out)
{
	_cleanup_free_ uint8_t *buf = malloc(DUMP_CHUNK);
	_cleanup_close_ int raw_fd = -1;
	_cleanup_fclose_ FILE *file = NULL;
	struct dump_state d = { .o = o, .pages_fd = pages_fd, .out = out, .raw_fd = -1, .buf = buf };
	char size[32];
	int r;

	if (!buf)
		return -ENOMEM;
	if (o->output) {
		/* Memory is sensitive: the file is private to its owner. */
		int fd = oc_create_private_file(o->output, true);
		if (fd < 0)
			return fd;
		if (o->raw) {
			raw_fd = d.raw_fd = fd;
		} else {
			file = fdopen(fd, "w");
			if (!file) {
				close(fd);
				return -ENOMEM;
			}
			d.out = file;
		}
	}
	if (o->format == OCI_FORMAT_JSON) {
		r = ij_writer_new(out, true, &d.w);
		if (r < 0)
			return r;
		ij_obj_open(d.w);
		ij_kv_u64(d.w, "schema_version", 1);
		ij_kv_i64(d.w, "pid", t->pid);
		ij_kv_str(d.w, "comm", t->comm);
		ij_kv_str(d.w, "output", o->output);
		ij_kv_bool(d.w, "raw", o->raw);
		ij_key(d.w, "segments");
		ij_arr_open(d.w);
	} else if (!o->raw) {
		fprintf(d.out, "# memory of process %d (%s) as dumped; addresses on the left\n", t->pid, t->comm);
	}
	r = pages_fd >= 0 ? oci_mem_segments(t->pm.runs, t->pm.n_runs, dump_segment, &d) : 0;
	if (r >= 0 && d.w) {
		ij_arr_close(d.w);
		ij_kv_u64(d.w, "total_size", d.total);
		ij_obj_close(d.w);
		r = ij_writer_finish(d.w);
	} else if (r >= 0) {
		oci_fmt_size(d.total, size, sizeof(size));
		fprintf(o->raw ? out : d.out, "# %s in total\n", size);
		if (fflush(out) || (file && fflush(file)))
			r = oc_error_errno(-errno, "cannot write the memory listing");
	}
	ij_writer_free(d.w);
	if (r >= 0 && file && fclose(TAKE_PTR(file)) != 0)
		r = oc_error_errno(-errno, "cannot write %s", o->output);
	if (r >= 0 && raw_fd >= 0 && close(TAKE_FD(raw_fd)) < 0)
		r = oc_error_errno(-errno, "cannot write %s", o->output);
	return r;
}

int oci_inspect_memory(const struct oci_memory_opts *o)
{
	struct oci_view_opts vo = { .sz = sizeof(vo), .pages_pid = o->pid };
	_cleanup_close_ int pages_fd = -1;
	struct oci_view v;
	int r;

	if (o->raw && !o->output)
		return oc_error(-EINVAL, "raw memory needs an output file");
	r = oci_view_open(o->target, &vo, &v);
	if (r < 0)
		return r;
	const struct oc_ckpt_task *t = oc_ckpt_find_task(v.ckpt, o->pid);
	if (!t) {
		char pids[256] = "";
		size_t len = 0;
		for (size_t i = 0; i < v.ckpt->n_tasks && len < sizeof(pids) - 16; i++)
			len += snprintf(pids + len, sizeof(pids) - len, "%s%d", i ? ", " : "", v.ckpt->tasks[i].pid);
		r = oc_error(-ESRCH, "no process %d in the checkpoint (its processes: %s)", o->pid, pids);
		goto out;
	}
	if (!t->has_mm) {
		r = oc_error(-ENOENT, "process %d (%s) has no memory in the checkpoint (%s)", t->pid, t->comm,
			     t->state);
		goto out;
	}
	r = oc_ckpt_open_pages(v.ckpt, t, &pages_fd);
	if (r == -ENOENT) {
		oc_error_clear();
		r = 0;
	}
	if (r < 0)
		goto out;
	if (o->search || o->search_regex) {
		_cleanup_fclose_ FILE *f = NULL;
		if (o->output) {
			int fd = oc_create_private_file(o->output, true);
			if (fd < 0) {
				r = fd;
				goto out;
			}
			f = fdopen(fd, "w");
			if (!f) {
				close(fd);
				r = -ENOMEM;
				goto out;
			}
		}
		r = search(o, t, pages_fd, f ? f : o->out);
		if (r >= 0 && f && fclose(TAKE_PTR(f)) != 0)
			r = oc_error_errno(-errno, "cannot write %s", o->output);
	} else {
		r = dump(o, t, pages_fd, o->out);
	}
out:
	oci_view_close(&v);
	return r;
}
