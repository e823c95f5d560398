/* bench-flood.c: health checks and logins under a flood of slow or idle connections
 *
 *   bench-flood [--connections N] [--seconds S]
 *
 * The audit's floods, with the server's default limits: N connections (1,100 unless told)
 * spread over loopback addresses 127.0.0.2… (30 from each, under the per-address limit), for S
 * seconds (40 unless told, longer than the 30 s deadline) in two phases:
 *
 * 1. slow: each sends its request's headers a byte every 3 s, and is opened again when the
 *    server closes it;
 * 2. idle: each connects and sends nothing, and is opened again when closed.
 *
 * Meanwhile 127.0.0.1 asks /v1/health every 250 ms and logs in every 2 s, each with a 5 s
 * timeout: how many were answered, and how long the slowest took.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kh-test-server.h"

typedef struct
{
  int    fd;
  int    sent;
  gint64 last;
} Conn;

static const char request[] = "GET /v1/health HTTP/1.1\r\nHost: x\r\nUser-Agent: slow\r\n\r\n";

static int
connect_from (int port,
              int source)
{
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  struct sockaddr_in from = { .sin_family = AF_INET };
  struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons ((guint16) port) };

  from.sin_addr.s_addr = htonl (0x7f000000u | (guint32) source);
  inet_pton (AF_INET, "127.0.0.1", &to.sin_addr);
  if (fd < 0 || bind (fd, (struct sockaddr *) &from, sizeof from) != 0)
    g_error ("socket: %s", g_strerror (errno));
  if (connect (fd, (struct sockaddr *) &to, sizeof to) != 0 && errno != EINPROGRESS)
    g_error ("connect: %s", g_strerror (errno));
  return fd;
}

static size_t
discard_cb (char *data, size_t size, size_t n, void *user_data)
{
  return size * n;
}

/* A request from 127.0.0.1; its status (0: none within 5 s) and time. */
static long
ask (KhTestServer *s,
     const char   *path,
     const char   *body,
     gint64       *us)
{
  CURL *curl = curl_easy_init ();
  g_autofree char *url = g_strconcat (s->base, path, NULL);
  gint64 t0 = g_get_monotonic_time ();
  long status = 0;

  curl_easy_setopt (curl, CURLOPT_URL, url);
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, discard_cb);
  curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_setopt (curl, CURLOPT_INTERFACE, "127.0.0.1");
  if (body != NULL)
    curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body);
  if (curl_easy_perform (curl) == CURLE_OK)
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup (curl);
  *us = g_get_monotonic_time () - t0;
  return status;
}

static void
phase (KhTestServer *s,
       const char   *name,
       gboolean      slow,
       int           n,
       int           seconds)
{
  Conn *conns = g_new0 (Conn, n);
  gint64 start = g_get_monotonic_time ();
  gint64 next_login = start;
  gint64 worst_health = 0, worst_login = 0;
  int health = 0, health_ok = 0, logins = 0, logins_ok = 0, reopened = 0;

  for (int i = 0; i < n; i++)
    conns[i] = (Conn) { connect_from (s->port, 2 + i / 30), 0, start };
  while (g_get_monotonic_time () - start < (gint64) seconds * G_USEC_PER_SEC)
    {
      gint64 now = g_get_monotonic_time ();
      gint64 us;
      long status;

      for (int i = 0; i < n; i++)
        {
          char buf[512];
          ssize_t got = recv (conns[i].fd, buf, sizeof buf, MSG_DONTWAIT);

          if (got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOTCONN))
            {
              close (conns[i].fd);
              conns[i] = (Conn) { connect_from (s->port, 2 + i / 30), 0, now };
              reopened++;
              continue;
            }
          if (slow && now - conns[i].last >= 3 * G_USEC_PER_SEC && conns[i].sent < (int) sizeof request - 2
              && send (conns[i].fd, request + conns[i].sent, 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1)
            {
              conns[i].sent++;
              conns[i].last = now;
            }
        }
      status = ask (s, "/v1/health", NULL, &us);
      health++;
      if (status == 200)
        health_ok++;
      worst_health = MAX (worst_health, us);
      if (g_get_monotonic_time () >= next_login)
        {
          status = ask (s, "/v1/login", "{\"username\":\"admin\",\"password\":\"password-admin\"}", &us);
          logins++;
          if (status == 200)
            logins_ok++;
          worst_login = MAX (worst_login, us);
          next_login += 2 * G_USEC_PER_SEC;
        }
      g_usleep (250000);
    }
  g_print ("%s: %d connections for %d s (%d opened again after the server closed them): "
           "health %d/%d answered 200, slowest %.0f ms; login %d/%d answered 200, slowest %.0f ms\n",
           name, n, seconds, reopened, health_ok, health, worst_health / 1000.0, logins_ok, logins,
           worst_login / 1000.0);
  for (int i = 0; i < n; i++)
    close (conns[i].fd);
  g_free (conns);
}

int
main (int argc, char **argv)
{
  int n = 1100;
  int seconds = 40;
  KhTestServer *s;

  for (int i = 1; i + 1 < argc; i++)
    if (strcmp (argv[i], "--connections") == 0)
      n = atoi (argv[++i]);
    else if (strcmp (argv[i], "--seconds") == 0)
      seconds = atoi (argv[++i]);
  signal (SIGPIPE, SIG_IGN);
  curl_global_init (CURL_GLOBAL_DEFAULT);
  s = kh_test_server_new_serving ("sqlite");
  phase (s, "slow headers", TRUE, n, seconds);
  phase (s, "idle", FALSE, n, seconds);
  kh_test_server_stop (s);
  kh_test_server_free (s);
  return 0;
}
