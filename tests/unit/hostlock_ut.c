/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hostlock_ut.c - unit tests of dom0-daemon/hostlock.c without xenstore:
 * the owner record (format, strict parse) and its liveness judgement
 * against real processes (this one, a zombie, a reaped child), and the
 * lock file (a second holder refused with the first one's pid, the file
 * in $RUNTIME_DIRECTORY).  The xenstore node is covered end to end by
 * tests/integration/daemon_hostlock.test.sh.
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dom0-daemon/hostlock.h"
#include "dom0-daemon/logsink.h"
#include "ut_common.h"

/* Proves a record survives format and parse unchanged, and that anything
 * but the exact canonical form is refused (so a stray value is judged
 * stale, never misread as some live pid). */
static void test_record(void)
{
	static const char *const bad[] = {
		"", "pid=", "pid=12 start=5", "pid=12 start=5 boot=", "pid=0 start=5 boot=ab",
		"pid=-3 start=5 boot=ab", "pid=12 start=5 boot=ab ", " pid=12 start=5 boot=ab",
		"pid=012 start=5 boot=ab", "pid=12 start=+5 boot=ab", "pid=12 start=5 boot=AB",
		"pid=12  start=5 boot=ab", "pid=12 start=5 boot=ab\n", "garbage",
	};
	struct xsd_owner o = { .pid = 4321, .start = 987654321 }, p;
	char buf[128];
	size_t i;
	int n;

	snprintf(o.boot_id, sizeof(o.boot_id), "a7f9bfa6-0e55-4fa1-88d1-c8d618ab7947");
	n = xsd_owner_format(&o, buf, sizeof(buf));
	CU_ASSERT_EQUAL(n, (int)strlen(buf));
	CU_ASSERT_STRING_EQUAL(buf, "pid=4321 start=987654321 boot=a7f9bfa6-0e55-4fa1-88d1-c8d618ab7947");
	CU_ASSERT_EQUAL(xsd_owner_parse(buf, strlen(buf), &p), 0);
	CU_ASSERT_EQUAL(p.pid, 4321);
	CU_ASSERT_EQUAL(p.start, 987654321);
	CU_ASSERT_STRING_EQUAL(p.boot_id, o.boot_id);
	CU_ASSERT_EQUAL(xsd_owner_parse("pid=1\0 start=2 boot=ab", 22, &p), -EINVAL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (xsd_owner_parse(bad[i], strlen(bad[i]), &p) != -EINVAL)
			fprintf(stderr, "\n  accepted: '%s'\n", bad[i]);
		CU_ASSERT_EQUAL(xsd_owner_parse(bad[i], strlen(bad[i]), &p), -EINVAL);
	}
}

/* Proves this process is judged alive under its own record, and not alive
 * under a record from another boot or with another start time (a reused
 * pid). */
static void test_self_alive(void)
{
	struct xsd_owner self, o;

	CU_ASSERT_EQUAL_FATAL(xsd_owner_self(&self), 0);
	CU_ASSERT_EQUAL(self.pid, getpid());
	CU_ASSERT(self.start > 0);
	CU_ASSERT_EQUAL(strlen(self.boot_id), 36);
	CU_ASSERT(xsd_owner_alive(&self, self.boot_id));
	CU_ASSERT(!xsd_owner_alive(&self, "00000000-0000-0000-0000-000000000000"));
	o = self;
	o.start++;
	CU_ASSERT(!xsd_owner_alive(&o, self.boot_id));
}

/* Proves a daemon killed but not yet reaped (a zombie: it holds no lock
 * and no ring any more) and one gone altogether are both judged dead, while
 * the same child running was judged alive. */
static void test_dead_and_zombie(void)
{
	struct xsd_owner self, child;
	char path[64];
	struct stat st;
	int fds[2], status, i;
	pid_t pid;

	CU_ASSERT_EQUAL_FATAL(xsd_owner_self(&self), 0);
	CU_ASSERT_FATAL(pipe(fds) == 0);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		struct xsd_owner me;

		close(fds[0]);
		if (xsd_owner_self(&me) || write(fds[1], &me, sizeof(me)) != (ssize_t)sizeof(me))
			_exit(1);
		pause();
		_exit(0);
	}
	close(fds[1]);
	CU_ASSERT_EQUAL_FATAL(read(fds[0], &child, sizeof(child)), (ssize_t)sizeof(child));
	close(fds[0]);
	CU_ASSERT_EQUAL(child.pid, pid);
	CU_ASSERT(xsd_owner_alive(&child, self.boot_id));

	kill(pid, SIGKILL);
	/* wait until it is a zombie: /proc/PID still there, state Z */
	for (i = 0; i < 1000; i++) {
		FILE *f;
		char state = 0;

		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		f = fopen(path, "r");
		if (f && fscanf(f, "%*d (%*[^)]) %c", &state) == 1 && state == 'Z') {
			fclose(f);
			break;
		}
		if (f)
			fclose(f);
		usleep(1000);
	}
	CU_ASSERT(stat(path, &st) == 0);
	CU_ASSERT(!xsd_owner_alive(&child, self.boot_id));
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT(!xsd_owner_alive(&child, self.boot_id));
}

/* Proves the lock file lives in $RUNTIME_DIRECTORY (created 0700), that a
 * second holder is refused with the first one's pid and the file named,
 * and that the lock is free again once released. */
static void test_lock_file(void)
{
	char dir[] = "/tmp/xsd_hostlock_ut.XXXXXX", rt[64], err[512], want[256];
	struct xsd_hostlock *a, *b;
	struct stat st;

	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	snprintf(rt, sizeof(rt), "%s/rt", dir);
	setenv("RUNTIME_DIRECTORY", rt, 1);
	CU_ASSERT_EQUAL_FATAL(xsd_hostlock_acquire(&a, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(stat(rt, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0700);
	CU_ASSERT_EQUAL(xsd_hostlock_write_pid(a), 0);
	CU_ASSERT_EQUAL(xsd_hostlock_acquire(&b, err, sizeof(err)), -EEXIST);
	snprintf(want, sizeof(want), "another xenshared is running (pid %d, holds %s/xenshared.lock)",
		 (int)getpid(), rt);
	CU_ASSERT(strstr(err, want) == err);
	xsd_hostlock_release(a, NULL);
	CU_ASSERT_EQUAL(xsd_hostlock_acquire(&b, err, sizeof(err)), 0);
	xsd_hostlock_release(b, NULL);
	unsetenv("RUNTIME_DIRECTORY");
	snprintf(want, sizeof(want), "%s/xenshared.lock", rt);
	unlink(want);
	rmdir(rt);
	rmdir(dir);
}

int main(void)
{
	static const struct ut_test tests[] = {
		UT(test_record),
		UT(test_self_alive),
		UT(test_dead_and_zombie),
		UT(test_lock_file),
	};

	xsd_log_open(false, 3);
	return UT_RUN("hostlock", NULL, NULL, tests);
}
