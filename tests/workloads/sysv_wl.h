/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * System V objects a container holds, made before the dump and checked
 * after restore (container.c, and mntns.c in a runc container): shared
 * memory segments of SYSV_SHM_SIZE bytes filled with a pattern of their
 * own, a set of four semaphores with values, a queue with three messages.
 */
#ifndef OCICR_TESTS_SYSV_WL_H
#define OCICR_TESTS_SYSV_WL_H

#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>

#include "wl.h"

#define SYSV_SHM_SIZE (3 * 4096 + 100)

static const unsigned short sysv_semvals[4] = { 1, 2, 300, 32767 };
static const char *const sysv_texts[3] = { "first", "second message", "" };
static const long sysv_types[3] = { 7, 3, 7 };

struct sysv_msg {
	long mtype;
	char text[64];
};

static inline unsigned char sysv_pattern(int seg, size_t i)
{
	return (unsigned char)(seg * 31 + i * 7 + (i >> 12));
}

/* A new segment with @key (or IPC_PRIVATE) and @mode, holding @seg's
 * pattern; attached at *@at when @at is given, else left detached. */
static inline int sysv_shm_make(key_t key, int mode, int seg, unsigned char **at)
{
	int id = shmget(key, SYSV_SHM_SIZE, IPC_CREAT | IPC_EXCL | mode);
	unsigned char *p;

	WL_SETUP(id >= 0, "shmget (needs its own ipc namespace)");
	p = shmat(id, NULL, 0);
	WL_SETUP(p != (void *)-1, "shmat");
	for (size_t i = 0; i < SYSV_SHM_SIZE; i++)
		p[i] = sysv_pattern(seg, i);
	if (at)
		*at = p;
	else
		shmdt(p);
	return id;
}

/* Segment @id has its key, mode, size and @seg's pattern (seen at @at, or
 * through a read-only attachment of its own). */
static inline void sysv_shm_check(int id, key_t key, int mode, int seg, const unsigned char *at)
{
	struct shmid_ds ds;

	WL_CHECK(shmctl(id, IPC_STAT, &ds) == 0, "segment %d is gone: %s", id, strerror(errno));
	WL_CHECK(ds.shm_perm.__key == key, "segment %d has key 0x%x, not 0x%x", id, ds.shm_perm.__key, key);
	WL_CHECK((ds.shm_perm.mode & 0777) == mode, "segment %d has mode 0%o", id, ds.shm_perm.mode & 0777);
	WL_CHECK(ds.shm_segsz == SYSV_SHM_SIZE, "segment %d has %zu bytes", id, (size_t)ds.shm_segsz);
	const unsigned char *p = at ? at : shmat(id, NULL, SHM_RDONLY);
	WL_CHECK(p != (void *)-1, "cannot attach segment %d: %s", id, strerror(errno));
	for (size_t i = 0; i < SYSV_SHM_SIZE; i++)
		WL_CHECK(p[i] == sysv_pattern(seg, i), "segment %d byte %zu is %u", id, i, p[i]);
	if (!at)
		shmdt(p);
}

/* Segment @id is attached @n times. */
static inline void sysv_shm_check_nattch(int id, int n)
{
	struct shmid_ds ds;

	WL_CHECK(shmctl(id, IPC_STAT, &ds) == 0 && (int)ds.shm_nattch == n, "segment %d attached %d times, not %d", id,
		 (int)ds.shm_nattch, n);
}

static inline int sysv_sem_make(key_t key)
{
	int id = semget(key, 4, IPC_CREAT | IPC_EXCL | 0660);

	WL_SETUP(id >= 0 && semctl(id, 0, SETALL, sysv_semvals) == 0, "semaphores");
	return id;
}

static inline void sysv_sem_check(int id, key_t key)
{
	unsigned short got[4];

	WL_CHECK(semctl(id, 0, GETALL, got) == 0, "semaphore set %d is gone: %s", id, strerror(errno));
	for (int i = 0; i < 4; i++)
		WL_CHECK(got[i] == sysv_semvals[i], "semaphore %d is %u, not %u", i, got[i], sysv_semvals[i]);
	WL_CHECK(semget(key, 0, 0) == id, "the semaphore key finds another set");
}

static inline int sysv_msg_make(key_t key)
{
	int id = msgget(key, IPC_CREAT | IPC_EXCL | 0620);
	struct sysv_msg msg;

	WL_SETUP(id >= 0, "msgget");
	for (int i = 0; i < 3; i++) {
		msg.mtype = sysv_types[i];
		strcpy(msg.text, sysv_texts[i]);
		WL_SETUP(msgsnd(id, &msg, strlen(sysv_texts[i]), 0) == 0, "msgsnd");
	}
	return id;
}

/* The queue has the three messages in order, and no fourth (it is empty
 * afterwards). */
static inline void sysv_msg_check(int id, key_t key)
{
	struct sysv_msg msg;

	WL_CHECK(msgget(key, 0) == id, "the queue key finds another queue");
	for (int i = 0; i < 3; i++) {
		ssize_t n = msgrcv(id, &msg, sizeof(msg.text), 0, IPC_NOWAIT);
		WL_CHECK(n == (ssize_t)strlen(sysv_texts[i]), "message %d has %zd bytes (%s)", i, n, strerror(errno));
		WL_CHECK(msg.mtype == sysv_types[i] && !memcmp(msg.text, sysv_texts[i], n), "message %d is wrong", i);
	}
	WL_CHECK(msgrcv(id, &msg, sizeof(msg.text), 0, IPC_NOWAIT) < 0, "a fourth message");
}

#endif
