/* LD_PRELOAD library for the fault tests (fault_test.cpp): SIGKILLs the process at an exact
 * point of writing a file, as a power cut or the OOM killer would, without any hook in tinykws.
 *
 *   TKWS_KILL_MATCH  substring of the path of the file concerned, e.g. "checkpoint.pt.tmp"
 *   TKWS_KILL_NTH    the Nth file opened whose path contains it (1-based, default 1)
 *   TKWS_KILL_AT     "write":  in that file's first write(): half of the bytes are written,
 *                              then SIGKILL (a torn temporary file is left behind);
 *                    "rename": when that file is renamed (into place): SIGKILL before it.
 *
 * Intercepts open/open64/openat/fopen/fopen64/mkstemp (to learn which descriptor is the file),
 * write()/writev() (libstdc++'s file streams use both), fwrite() and rename(). Without
 * TKWS_KILL_MATCH everything passes straight through. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

static int g_opened = 0;     /* matching files opened so far */
static int g_target_fd = -1; /* descriptor of the Nth one (TKWS_KILL_AT=write) */
static char g_target_path[4096];

static const char* match(void) {
  return getenv("TKWS_KILL_MATCH");
}
static int nth(void) {
  const char* s = getenv("TKWS_KILL_NTH");
  return s ? atoi(s) : 1;
}
static int at_is(const char* what) {
  const char* s = getenv("TKWS_KILL_AT");
  return s && strcmp(s, what) == 0;
}
static void die(void) {
  kill(getpid(), SIGKILL);
  for (;;) pause();
}

/* Called after a successful open of `path` as `fd`. */
static void opened(const char* path, int fd) {
  const char* m = match();
  if (!m || fd < 0 || !path || !strstr(path, m)) return;
  if (++g_opened == nth()) {
    g_target_fd = fd;
    snprintf(g_target_path, sizeof g_target_path, "%s", path);
  }
}

#define NEXT(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

int open(const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, mode_t) : 0;
  va_end(ap);
  int fd = NEXT(open)(path, flags, mode);
  opened(path, fd);
  return fd;
}
int open64(const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, mode_t) : 0;
  va_end(ap);
  int fd = NEXT(open64)(path, flags, mode);
  opened(path, fd);
  return fd;
}
int openat(int dirfd, const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, mode_t) : 0;
  va_end(ap);
  int fd = NEXT(openat)(dirfd, path, flags, mode);
  opened(path, fd);
  return fd;
}
FILE* fopen(const char* path, const char* mode) {
  FILE* f = NEXT(fopen)(path, mode);
  if (f) opened(path, fileno(f));
  return f;
}
FILE* fopen64(const char* path, const char* mode) {
  FILE* f = NEXT(fopen64)(path, mode);
  if (f) opened(path, fileno(f));
  return f;
}
int mkstemp(char* tmpl) {
  int fd = NEXT(mkstemp)(tmpl);
  opened(tmpl, fd);
  return fd;
}
int close(int fd) {
  if (fd == g_target_fd && at_is("write")) g_target_fd = -1; /* closed before any write */
  return NEXT(close)(fd);
}

ssize_t write(int fd, const void* buf, size_t n) {
  if (fd >= 0 && fd == g_target_fd && at_is("write") && n > 0) {
    NEXT(write)(fd, buf, n / 2 ? n / 2 : 1);
    die();
  }
  return NEXT(write)(fd, buf, n);
}

ssize_t writev(int fd, const struct iovec* iov, int cnt) {
  if (fd >= 0 && fd == g_target_fd && at_is("write") && cnt > 0 && iov[0].iov_len > 0) {
    NEXT(write)(fd, iov[0].iov_base, iov[0].iov_len / 2 ? iov[0].iov_len / 2 : 1);
    die();
  }
  return NEXT(writev)(fd, iov, cnt);
}

size_t fwrite(const void* buf, size_t size, size_t n, FILE* f) {
  /* glibc's fwrite reaches write() internally, past this library: catch it here. */
  if (f && fileno(f) == g_target_fd && at_is("write") && size * n > 0) {
    NEXT(fwrite)(buf, 1, size * n / 2 ? size * n / 2 : 1, f);
    fflush(f);
    die();
  }
  return NEXT(fwrite)(buf, size, n, f);
}

int rename(const char* from, const char* to) {
  if (at_is("rename") && g_target_path[0] && strcmp(from, g_target_path) == 0) die();
  return NEXT(rename)(from, to);
}
