// SPDX-License-Identifier: LGPL-2.1-or-later
/* The statistics images, read for front ends (criu --display-stats, the
 * RPC service's clients) without their reaching the image layer. */
#include "img/image.h"
#include "core/cleanup.h"
#include "core/error.h"

#include "stats.pb-c.h"

OC_API int oc_stats_read(const char *images_dir, bool restore, struct oc_dump_stats *ret_dump,
			 struct oc_restore_stats *ret_restore)
{
	struct oc_imgdir *dir = NULL;
	ProtobufCMessage *msg = NULL;
	int r;

	r = oc_imgdir_open(images_dir, false, &dir);
	if (r < 0)
		return r;
	r = oc_img_read_one(dir, restore ? OC_IMG_STATS_RESTORE : OC_IMG_STATS_DUMP, 0, &msg);
	oc_imgdir_close(dir);
	if (r < 0)
		return r;
	const StatsEntry *st = (const StatsEntry *)msg;
	if (!restore && st->dump && ret_dump) {
		const DumpStatsEntry *d = st->dump;
		*ret_dump = (struct oc_dump_stats){
			.freezing_us = d->freezing_time,
			.frozen_us = d->frozen_time,
			.memdump_us = d->memdump_time,
			.memwrite_us = d->memwrite_time,
			.pages_scanned = d->pages_scanned,
			.pages_skipped_parent = d->pages_skipped_parent,
			.pages_written = d->pages_written,
			.pages_lazy = d->pages_lazy,
		};
	} else if (restore && st->restore && ret_restore) {
		const RestoreStatsEntry *e = st->restore;
		*ret_restore = (struct oc_restore_stats){
			.forking_us = e->forking_time,
			.restore_us = e->restore_time,
			.pages_compared = e->pages_compared,
			.pages_skipped_cow = e->pages_skipped_cow,
			.pages_restored = e->pages_restored,
			.has_pages_restored = e->has_pages_restored,
		};
	} else {
		r = oc_error(-ENODATA, "%s: the statistics image holds no %s statistics", images_dir,
			     restore ? "restore" : "dump");
	}
	protobuf_c_message_free_unpacked(msg, NULL);
	return r;
}
