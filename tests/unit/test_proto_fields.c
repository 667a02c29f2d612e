// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Our proto/ schemas against CRIU 4.2: every field listed in
 * shared/docs/fields-4.2.txt (plus CRIU's RPC messages, which that list
 * leaves out) must exist with the same number, label and type, and
 * nothing else may exist but ocicr's few own (ocicr_fields below).  Also checks that the crit hint table only
 * names real fields and tables.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <protobuf-c/protobuf-c.h>

#include "img/pbhints.h"

extern const ProtobufCMessageDescriptor *const oc_pb_registry[];
extern const size_t oc_pb_registry_len;

#define FIELDS_FILE "docs/fields-4.2.txt"

/* Options of CRIU's custom-option message; we keep those in pbhints.c. */
#define SKIP_PREFIX "CRIU_Opts."

/*
 * rpc.proto is not part of fields-4.2.txt; these lines, in the same
 * format, are CRIU 4.2's RPC messages.
 */
static const char *const rpc_fields[] = {
	"cgroup_root.ctrl 1 opt 9",
	"cgroup_root.path 2 req 9",
	"criu_dump_resp.restored 1 opt 8",
	"criu_features.mem_track 1 opt 8",
	"criu_features.lazy_pages 2 opt 8",
	"criu_features.pidfd_store 3 opt 8",
	"criu_notify.script 1 opt 9",
	"criu_notify.pid 2 opt 5",
	"criu_opts.images_dir_fd 1 req 5",
	"criu_opts.pid 2 opt 5",
	"criu_opts.leave_running 3 opt 8",
	"criu_opts.ext_unix_sk 4 opt 8",
	"criu_opts.tcp_established 5 opt 8",
	"criu_opts.evasive_devices 6 opt 8",
	"criu_opts.shell_job 7 opt 8",
	"criu_opts.file_locks 8 opt 8",
	"criu_opts.log_level 9 opt 5",
	"criu_opts.log_file 10 opt 9",
	"criu_opts.ps 11 opt criu_page_server_info",
	"criu_opts.notify_scripts 12 opt 8",
	"criu_opts.root 13 opt 9",
	"criu_opts.parent_img 14 opt 9",
	"criu_opts.track_mem 15 opt 8",
	"criu_opts.auto_dedup 16 opt 8",
	"criu_opts.work_dir_fd 17 opt 5",
	"criu_opts.link_remap 18 opt 8",
	"criu_opts.veths 19 rep criu_veth_pair",
	"criu_opts.cpu_cap 20 opt 13",
	"criu_opts.force_irmap 21 opt 8",
	"criu_opts.exec_cmd 22 rep 9",
	"criu_opts.ext_mnt 23 rep ext_mount_map",
	"criu_opts.manage_cgroups 24 opt 8",
	"criu_opts.cg_root 25 rep cgroup_root",
	"criu_opts.rst_sibling 26 opt 8",
	"criu_opts.inherit_fd 27 rep inherit_fd",
	"criu_opts.auto_ext_mnt 28 opt 8",
	"criu_opts.ext_sharing 29 opt 8",
	"criu_opts.ext_masters 30 opt 8",
	"criu_opts.skip_mnt 31 rep 9",
	"criu_opts.enable_fs 32 rep 9",
	"criu_opts.unix_sk_ino 33 rep unix_sk",
	"criu_opts.manage_cgroups_mode 34 opt criu_cg_mode",
	"criu_opts.ghost_limit 35 opt 13",
	"criu_opts.irmap_scan_paths 36 rep 9",
	"criu_opts.external 37 rep 9",
	"criu_opts.empty_ns 38 opt 13",
	"criu_opts.join_ns 39 rep join_namespace",
	"criu_opts.cgroup_props 41 opt 9",
	"criu_opts.cgroup_props_file 42 opt 9",
	"criu_opts.cgroup_dump_controller 43 rep 9",
	"criu_opts.freeze_cgroup 44 opt 9",
	"criu_opts.timeout 45 opt 13",
	"criu_opts.tcp_skip_in_flight 46 opt 8",
	"criu_opts.weak_sysctls 47 opt 8",
	"criu_opts.lazy_pages 48 opt 8",
	"criu_opts.status_fd 49 opt 5",
	"criu_opts.orphan_pts_master 50 opt 8",
	"criu_opts.config_file 51 opt 9",
	"criu_opts.tcp_close 52 opt 8",
	"criu_opts.lsm_profile 53 opt 9",
	"criu_opts.tls_cacert 54 opt 9",
	"criu_opts.tls_cacrl 55 opt 9",
	"criu_opts.tls_cert 56 opt 9",
	"criu_opts.tls_key 57 opt 9",
	"criu_opts.tls 58 opt 8",
	"criu_opts.tls_no_cn_verify 59 opt 8",
	"criu_opts.cgroup_yard 60 opt 9",
	"criu_opts.pre_dump_mode 61 opt criu_pre_dump_mode",
	"criu_opts.pidfd_store_sk 62 opt 5",
	"criu_opts.lsm_mount_context 63 opt 9",
	"criu_opts.network_lock 64 opt criu_network_lock_method",
	"criu_opts.mntns_compat_mode 65 opt 8",
	"criu_opts.skip_file_rwx_check 66 opt 8",
	"criu_opts.unprivileged 67 opt 8",
	"criu_opts.images_dir 68 opt 9",
	"criu_opts.leave_stopped 69 opt 8",
	"criu_opts.display_stats 70 opt 8",
	"criu_opts.log_to_stderr 71 opt 8",
	"criu_page_server_info.address 1 opt 9",
	"criu_page_server_info.port 2 opt 5",
	"criu_page_server_info.pid 3 opt 5",
	"criu_page_server_info.fd 4 opt 5",
	"criu_req.type 1 req criu_req_type",
	"criu_req.opts 2 opt criu_opts",
	"criu_req.notify_success 3 opt 8",
	"criu_req.keep_open 4 opt 8",
	"criu_req.features 5 opt criu_features",
	"criu_req.pid 6 opt 13",
	"criu_resp.type 1 req criu_req_type",
	"criu_resp.success 2 req 8",
	"criu_resp.dump 3 opt criu_dump_resp",
	"criu_resp.restore 4 opt criu_restore_resp",
	"criu_resp.notify 5 opt criu_notify",
	"criu_resp.ps 6 opt criu_page_server_info",
	"criu_resp.cr_errno 7 opt 5",
	"criu_resp.features 8 opt criu_features",
	"criu_resp.cr_errmsg 9 opt 9",
	"criu_resp.version 10 opt criu_version",
	"criu_resp.status 11 opt 5",
	"criu_restore_resp.pid 1 req 5",
	"criu_version.major_number 1 req 5",
	"criu_version.minor_number 2 req 5",
	"criu_version.gitid 3 opt 9",
	"criu_version.sublevel 4 opt 5",
	"criu_version.extra 5 opt 5",
	"criu_version.name 6 opt 9",
	"criu_veth_pair.if_in 1 req 9",
	"criu_veth_pair.if_out 2 req 9",
	"ext_mount_map.key 1 req 9",
	"ext_mount_map.val 2 req 9",
	"inherit_fd.key 1 req 9",
	"inherit_fd.fd 2 req 5",
	"join_namespace.ns 1 req 9",
	"join_namespace.ns_file 2 req 9",
	"join_namespace.extra_opt 3 opt 9",
	"unix_sk.inode 1 req 13",
};

/*
 * ocicr's own fields, for what CRIU 4.2 cannot dump at all (it refuses
 * nested pid namespaces): numbered from 100, out of CRIU's way; CRIU and
 * crit skip them as unknown.
 */
static const char *const ocicr_fields[] = {
	"pstree_entry.ns_pids 100 rep 13",
	"pstree_entry.ns_tids 101 rep 13",
	"task_kobj_ids_entry.pid_for_children_ns_id 100 opt 13",
};

struct field_line {
	char message[64];
	char field[64];
	unsigned int number;
	char label[8];
	char type[64];
	bool seen; /* matched by a registry field */
};

struct fields_list {
	struct field_line *lines;
	size_t n, cap;
};

static int parse_line(const char *s, struct field_line *out)
{
	char name[160];
	char *dot;

	memset(out, 0, sizeof(*out));
	if (sscanf(s, "%159s %u %7s %63s", name, &out->number, out->label, out->type) != 4)
		return -1;
	dot = strchr(name, '.');
	if (!dot || dot == name || !dot[1] || (size_t)(dot - name) >= sizeof(out->message) ||
	    strlen(dot + 1) >= sizeof(out->field))
		return -1;
	memcpy(out->message, name, dot - name);
	strcpy(out->field, dot + 1);
	return 0;
}

static void add_line(struct fields_list *list, const char *s)
{
	struct field_line line;

	if (parse_line(s, &line))
		fail_msg("malformed field line: %s", s);
	if (list->n == list->cap) {
		list->cap = list->cap ? 2 * list->cap : 256;
		list->lines = realloc(list->lines, list->cap * sizeof(*list->lines));
		assert_non_null(list->lines);
	}
	list->lines[list->n++] = line;
}

/* $OCICR_SHARED, ../shared or ../../shared, whichever has the list. */
static FILE *open_fields_file(void)
{
	static const char *const dirs[] = { "../shared", "../../shared" };
	const char *env = getenv("OCICR_SHARED");
	char path[4096];
	FILE *f;
	size_t i;

	if (env && *env) {
		snprintf(path, sizeof(path), "%s/%s", env, FIELDS_FILE);
		f = fopen(path, "r");
		if (f)
			return f;
	}
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[i], FIELDS_FILE);
		f = fopen(path, "r");
		if (f)
			return f;
	}
	return NULL;
}

static const ProtobufCMessageDescriptor *find_message(const char *name)
{
	size_t i;

	for (i = 0; i < oc_pb_registry_len; i++)
		if (!strcmp(oc_pb_registry[i]->name, name))
			return oc_pb_registry[i];
	return NULL;
}

static const char *label_name(ProtobufCLabel label)
{
	switch (label) {
	case PROTOBUF_C_LABEL_REQUIRED:
		return "req";
	case PROTOBUF_C_LABEL_OPTIONAL:
		return "opt";
	case PROTOBUF_C_LABEL_REPEATED:
		return "rep";
	default:
		return "?";
	}
}

/* FieldDescriptorProto.Type numbers, as used in fields-4.2.txt. */
static int descriptor_type(ProtobufCType type)
{
	switch (type) {
	case PROTOBUF_C_TYPE_DOUBLE:
		return 1;
	case PROTOBUF_C_TYPE_FLOAT:
		return 2;
	case PROTOBUF_C_TYPE_INT64:
		return 3;
	case PROTOBUF_C_TYPE_UINT64:
		return 4;
	case PROTOBUF_C_TYPE_INT32:
		return 5;
	case PROTOBUF_C_TYPE_FIXED64:
		return 6;
	case PROTOBUF_C_TYPE_FIXED32:
		return 7;
	case PROTOBUF_C_TYPE_BOOL:
		return 8;
	case PROTOBUF_C_TYPE_STRING:
		return 9;
	case PROTOBUF_C_TYPE_MESSAGE:
		return 11;
	case PROTOBUF_C_TYPE_BYTES:
		return 12;
	case PROTOBUF_C_TYPE_UINT32:
		return 13;
	case PROTOBUF_C_TYPE_ENUM:
		return 14;
	case PROTOBUF_C_TYPE_SFIXED32:
		return 15;
	case PROTOBUF_C_TYPE_SFIXED64:
		return 16;
	case PROTOBUF_C_TYPE_SINT32:
		return 17;
	case PROTOBUF_C_TYPE_SINT64:
		return 18;
	}
	return -1;
}

/* The part of a full protobuf name after the last dot. */
static const char *unqualified(const char *name)
{
	const char *dot = strrchr(name, '.');

	return dot ? dot + 1 : name;
}

/*
 * The type as the list spells it: a number for scalars, the descriptor's
 * name for messages and enums.  Nested enums (core_entry.march) are listed
 * by their unqualified name.
 */
static void type_name(const ProtobufCFieldDescriptor *fd, char *buf, size_t len)
{
	if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
		const ProtobufCMessageDescriptor *md = fd->descriptor;

		snprintf(buf, len, "%s", unqualified(md->name));
	} else if (fd->type == PROTOBUF_C_TYPE_ENUM) {
		const ProtobufCEnumDescriptor *ed = fd->descriptor;

		snprintf(buf, len, "%s", unqualified(ed->name));
	} else {
		snprintf(buf, len, "%d", descriptor_type(fd->type));
	}
}

static int load_expected(void **state)
{
	struct fields_list *list = calloc(1, sizeof(*list));
	char buf[512];
	FILE *f;
	size_t i;

	if (!list)
		return -1;
	*state = list;

	f = open_fields_file();
	if (!f)
		return 0; /* the test skips */
	while (fgets(buf, sizeof(buf), f)) {
		if (buf[0] == '\n' || buf[0] == '#' || !strncmp(buf, SKIP_PREFIX, strlen(SKIP_PREFIX)))
			continue;
		add_line(list, buf);
	}
	fclose(f);

	for (i = 0; i < sizeof(rpc_fields) / sizeof(rpc_fields[0]); i++)
		add_line(list, rpc_fields[i]);
	for (i = 0; i < sizeof(ocicr_fields) / sizeof(ocicr_fields[0]); i++)
		add_line(list, ocicr_fields[i]);
	return 0;
}

static int free_expected(void **state)
{
	struct fields_list *list = *state;

	if (list)
		free(list->lines);
	free(list);
	return 0;
}

static void test_fields_match_criu(void **state)
{
	struct fields_list *list = *state;
	unsigned int errors = 0;
	size_t i, j, n_fields = 0;
	char type[64];

	if (!list->n) {
		print_message("no " FIELDS_FILE " under $OCICR_SHARED, "
			      "../shared or ../../shared\n");
		skip();
	}

	/* Every listed field exists, with the same number, label, type. */
	for (i = 0; i < list->n; i++) {
		struct field_line *l = &list->lines[i];
		const ProtobufCMessageDescriptor *md;
		const ProtobufCFieldDescriptor *fd;

		md = find_message(l->message);
		if (!md) {
			print_error("%s.%s: no message %s\n", l->message, l->field, l->message);
			errors++;
			continue;
		}
		fd = protobuf_c_message_descriptor_get_field_by_name(md, l->field);
		if (!fd) {
			print_error("%s.%s: no such field\n", l->message, l->field);
			errors++;
			continue;
		}
		type_name(fd, type, sizeof(type));
		if (fd->id != l->number || strcmp(label_name(fd->label), l->label) || strcmp(type, l->type)) {
			print_error("%s.%s: have %u %s %s, want %u %s %s\n", l->message, l->field, fd->id,
				    label_name(fd->label), type, l->number, l->label, l->type);
			errors++;
		}
		if (l->seen) {
			print_error("%s.%s: listed twice\n", l->message, l->field);
			errors++;
		}
		l->seen = true;
	}

	/* Nothing exists that is not listed. */
	for (i = 0; i < oc_pb_registry_len; i++) {
		const ProtobufCMessageDescriptor *md = oc_pb_registry[i];
		bool listed = false;
		unsigned int k;

		for (j = 0; j < list->n; j++)
			if (!strcmp(list->lines[j].message, md->name))
				listed = true;
		if (!listed) {
			print_error("message %s is not in the list\n", md->name);
			errors++;
		}
		for (k = 0; k < md->n_fields; k++) {
			const char *name = md->fields[k].name;

			for (j = 0; j < list->n; j++)
				if (!strcmp(list->lines[j].message, md->name) && !strcmp(list->lines[j].field, name))
					break;
			if (j == list->n) {
				print_error("%s.%s is not in the list\n", md->name, name);
				errors++;
			}
		}
		n_fields += md->n_fields;
	}

	assert_int_equal(errors, 0);
	assert_int_equal(n_fields, list->n);
}

static const struct oc_pb_flags_table *find_flags_table(const char *name)
{
	size_t i;

	for (i = 0; i < oc_pb_n_flags_tables; i++)
		if (!strcmp(oc_pb_flags_tables[i].name, name))
			return &oc_pb_flags_tables[i];
	return NULL;
}

/* crit looks a dict up by the field's own name. */
static bool dict_has(const char *dict, const char *field)
{
	size_t i;

	for (i = 0; i < oc_pb_n_dict_values; i++)
		if (!strcmp(oc_pb_dict_values[i].dict, dict) && !strcmp(oc_pb_dict_values[i].field, field))
			return true;
	return false;
}

static bool is_integer(ProtobufCType type)
{
	switch (type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return true;
	default:
		return false;
	}
}

/* Whether a hint of this kind makes sense on this field. */
static bool hint_fits(const struct oc_pb_hint *h, const ProtobufCFieldDescriptor *fd)
{
	switch (h->kind) {
	case OC_PB_HINT_HEX:
		return is_integer(fd->type) || fd->type == PROTOBUF_C_TYPE_MESSAGE;
	case OC_PB_HINT_FLAGS:
	case OC_PB_HINT_DICT:
	case OC_PB_HINT_DEV:
	case OC_PB_HINT_ODEV:
		return is_integer(fd->type);
	case OC_PB_HINT_IPADD:
		return fd->type == PROTOBUF_C_TYPE_UINT32 && fd->label == PROTOBUF_C_LABEL_REPEATED;
	case OC_PB_HINT_CONV:
		return fd->type == PROTOBUF_C_TYPE_BYTES;
	}
	return false;
}

static void test_hints_name_real_fields(void **state)
{
	unsigned int errors = 0;
	size_t i, j;

	assert_true(oc_pb_n_hints > 0);
	for (i = 0; i < oc_pb_n_hints; i++) {
		const struct oc_pb_hint *h = &oc_pb_hints[i];
		const ProtobufCMessageDescriptor *md;
		const ProtobufCFieldDescriptor *fd;

		assert_non_null(h->message);
		assert_non_null(h->field);
		md = find_message(h->message);
		fd = md ? protobuf_c_message_descriptor_get_field_by_name(md, h->field) : NULL;
		if (!fd) {
			print_error("hint %s.%s: no such field\n", h->message, h->field);
			errors++;
			continue;
		}
		if (!hint_fits(h, fd)) {
			print_error("hint %s.%s: kind %d does not fit a field "
				    "of type %d\n",
				    h->message, h->field, h->kind, fd->type);
			errors++;
		}
		switch (h->kind) {
		case OC_PB_HINT_FLAGS:
			if (!h->arg || !find_flags_table(h->arg)) {
				print_error("hint %s.%s: no flags table %s\n", h->message, h->field,
					    h->arg ? h->arg : "(null)");
				errors++;
			}
			break;
		case OC_PB_HINT_DICT:
			if (!h->arg || !dict_has(h->arg, h->field)) {
				print_error("hint %s.%s: dict %s has no %s\n", h->message, h->field,
					    h->arg ? h->arg : "(null)", h->field);
				errors++;
			}
			break;
		case OC_PB_HINT_CONV:
			if (!h->arg) {
				print_error("hint %s.%s: conversion unnamed\n", h->message, h->field);
				errors++;
			}
			break;
		default:
			break;
		}
		/* One entry per (message, field, kind). */
		for (j = 0; j < i; j++)
			if (!strcmp(oc_pb_hints[j].message, h->message) && !strcmp(oc_pb_hints[j].field, h->field) &&
			    oc_pb_hints[j].kind == h->kind) {
				print_error("hint %s.%s: duplicate\n", h->message, h->field);
				errors++;
			}
	}
	assert_int_equal(errors, 0);
}

static void test_flags_tables(void **state)
{
	size_t i, j;

	for (i = 0; i < oc_pb_n_flags_tables; i++) {
		const struct oc_pb_flags_table *t = &oc_pb_flags_tables[i];

		assert_non_null(t->name);
		assert_true(t->n_flags > 0);
		assert_ptr_equal(find_flags_table(t->name), t);
		for (j = 0; j < t->n_flags; j++)
			assert_non_null(t->flags[j].name);
	}
	for (i = 0; i < oc_pb_n_dict_values; i++) {
		assert_non_null(oc_pb_dict_values[i].dict);
		assert_non_null(oc_pb_dict_values[i].field);
		assert_non_null(oc_pb_dict_values[i].name);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields_match_criu),
		cmocka_unit_test(test_hints_name_real_fields),
		cmocka_unit_test(test_flags_tables),
	};

	return cmocka_run_group_tests(tests, load_expected, free_expected);
}
