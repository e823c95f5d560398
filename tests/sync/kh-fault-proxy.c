/* kh-fault-proxy.c: a TCP proxy between the engine and the server that breaks things on purpose
 *
 * It reads each HTTP request from the client (headers and Content-Length body), decides a fault,
 * and forwards the request to the server on a fresh connection marked "Connection: close", so
 * the whole answer is what the server sends until it closes. Faults then cut, delay, stall,
 * replace or duplicate the exchange. A thread per client connection; blocking sockets.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kh-fault-proxy.h"

struct _KhFaultProxy
{
  int       listen_fd;
  int       port;
  int       upstream_port;
  GThread  *acceptor;
  GMutex    lock;
  GRand    *rand;
  KhFault   fault;
  char     *prefix;
  int       times;
  char     *answer_prefix;
  GBytes   *answer;
  double    p;
  gboolean  stopping;
  guint     counts[KH_N_FAULTS];
  guint     rate;        /* bytes per second each way; 0: unlimited */
  guint     latency_ms;
  guint64   bytes_up;
  GPtrArray *workers;
};

const char *
kh_fault_name (KhFault fault)
{
  static const char *names[] = { "none", "reset-before", "reset-after", "truncate", "delay",
                                 "stall", "500", "503", "twice", "cut-request", "cut-answer" };
  return names[fault];
}

static gboolean
write_all (int         fd,
           const char *data,
           gsize       len)
{
  while (len > 0)
    {
      ssize_t n = send (fd, data, len, MSG_NOSIGNAL);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      data += n;
      len -= (gsize) n;
    }
  return TRUE;
}

static void
reset_close (int fd)
{
  struct linger lg = { 1, 0 };

  setsockopt (fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  close (fd);
}

/* Whether the client at @fd has gone (closed, reset, killed). */
static gboolean
client_gone (int fd)
{
  struct pollfd pfd = { fd, POLLIN, 0 };
  ssize_t n;
  char c;

  if (fd < 0 || poll (&pfd, 1, 0) <= 0)
    return FALSE;
  if (pfd.revents & (POLLHUP | POLLERR))
    return TRUE;
  if (!(pfd.revents & POLLIN))
    return FALSE;
  n = recv (fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* Writes @len bytes at the link's rate, in slices of a tenth of a second; stops when the
 * client at @watch (-1: none) goes, as the bytes still on a real link would be lost with it.
 * *@sent: the bytes written. */
static gboolean
write_paced_watch (KhFaultProxy *self,
                   int           fd,
                   const char   *data,
                   gsize         len,
                   int           watch,
                   gsize        *sent)
{
  guint rate;

  *sent = 0;
  g_mutex_lock (&self->lock);
  rate = self->rate;
  g_mutex_unlock (&self->lock);
  while (len > 0)
    {
      gsize slice = rate == 0 ? len : MIN (len, MAX (rate / 10, 1));
      gint64 start = g_get_monotonic_time ();
      gint64 due = start + (rate == 0 ? 0 : (gint64) slice * G_USEC_PER_SEC / rate);

      if (rate > 0 && client_gone (watch))
        return FALSE;
      if (!write_all (fd, data, slice))
        return FALSE;
      *sent += slice;
      data += slice;
      len -= slice;
      if (due > g_get_monotonic_time ())
        g_usleep ((gulong) (due - g_get_monotonic_time ()));
    }
  return TRUE;
}

static gboolean
write_paced (KhFaultProxy *self,
             int           fd,
             const char   *data,
             gsize         len)
{
  guint rate;

  g_mutex_lock (&self->lock);
  rate = self->rate;
  g_mutex_unlock (&self->lock);
  if (rate == 0)
    return write_all (fd, data, len);
  while (len > 0)
    {
      gsize slice = MIN (len, MAX (rate / 10, 1));
      gint64 start = g_get_monotonic_time ();
      gint64 due = start + (gint64) slice * G_USEC_PER_SEC / rate;

      if (!write_all (fd, data, slice))
        return FALSE;
      data += slice;
      len -= slice;
      if (due > g_get_monotonic_time ())
        g_usleep ((gulong) (due - g_get_monotonic_time ()));
    }
  return TRUE;
}

static void
wait_latency (KhFaultProxy *self)
{
  guint ms;

  g_mutex_lock (&self->lock);
  ms = self->latency_ms;
  g_mutex_unlock (&self->lock);
  if (ms > 0)
    g_usleep (ms * 1000);
}

static void
count_up (KhFaultProxy *self,
          gsize         n)
{
  g_mutex_lock (&self->lock);
  self->bytes_up += n;
  g_mutex_unlock (&self->lock);
}

/* Reads one request: headers, then Content-Length bytes. NULL when the client went away. */
static GByteArray *
read_request (int fd)
{
  GByteArray *buf = g_byte_array_new ();
  char chunk[16384];
  gssize header_end = -1;
  gsize content_length = 0;

  for (;;)
    {
      ssize_t n;

      if (header_end >= 0 && buf->len >= (gsize) header_end + content_length)
        return buf;
      n = recv (fd, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          g_byte_array_unref (buf);
          return NULL;
        }
      g_byte_array_append (buf, (guint8 *) chunk, (guint) n);
      if (header_end < 0)
        {
          const char *end = g_strstr_len ((const char *) buf->data, buf->len, "\r\n\r\n");

          if (end != NULL)
            {
              g_autofree char *headers = NULL;
              const char *cl;

              header_end = end - (const char *) buf->data + 4;
              headers = g_ascii_strdown ((const char *) buf->data, header_end);
              cl = strstr (headers, "\r\ncontent-length:");
              if (cl != NULL)
                content_length = (gsize) g_ascii_strtoull (cl + 17, NULL, 10);
            }
        }
    }
}

static int
connect_upstream (int port)
{
  struct sockaddr_in addr = { 0 };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  addr.sin_family = AF_INET;
  addr.sin_port = htons (port);
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (connect (fd, (struct sockaddr *) &addr, sizeof addr) != 0)
    {
      close (fd);
      return -1;
    }
  return fd;
}

/* Sends the first @cut bytes of the request upstream, paced, then resets the connection. */
static void
forward_cut (KhFaultProxy *self,
             GByteArray   *request,
             gsize         cut)
{
  int fd = connect_upstream (self->upstream_port);

  if (fd < 0)
    return;
  wait_latency (self);
  write_paced (self, fd, (const char *) request->data, cut);
  count_up (self, cut);
  reset_close (fd);
}

/* Sends the request upstream with "Connection: close" and returns the whole answer. */
static GByteArray *
forward (KhFaultProxy *self,
         GByteArray   *request,
         int           client)
{
  const char *data = (const char *) request->data;
  const char *eol = g_strstr_len (data, request->len, "\r\n");
  GByteArray *answer;
  char chunk[16384];
  int fd;

  if (eol == NULL)
    return NULL;
  fd = connect_upstream (self->upstream_port);
  if (fd < 0)
    return NULL;
  wait_latency (self);
  if (!write_all (fd, data, eol - data + 2)
      || !write_all (fd, "Connection: close\r\n", 19))
    {
      close (fd);
      return NULL;
    }
  {
    gsize sent = 0;
    gboolean whole = write_paced_watch (self, fd, eol + 2, request->len - (eol - data + 2), client, &sent);

    count_up (self, (gsize) (eol - data + 2) + sent);
    if (!whole)
      {
        reset_close (fd);
        return NULL;
      }
  }
  answer = g_byte_array_new ();
  for (;;)
    {
      ssize_t n = recv (fd, chunk, sizeof chunk, 0);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      g_byte_array_append (answer, (guint8 *) chunk, (guint) n);
    }
  close (fd);
  return answer;
}

/* Random faults leave out the stall, which costs seconds each time. */
static KhFault
choose (KhFaultProxy  *self,
        GByteArray    *request,
        GBytes       **canned)
{
  KhFault f = KH_FAULT_NONE;
  const char *line = (const char *) request->data;

  g_mutex_lock (&self->lock);
  if (self->answer != NULL && request->len >= strlen (self->answer_prefix)
      && strncmp (line, self->answer_prefix, strlen (self->answer_prefix)) == 0)
    *canned = g_bytes_ref (self->answer);
  else if (self->times != 0 && (self->prefix == NULL || (request->len >= strlen (self->prefix)
                                && strncmp (line, self->prefix, strlen (self->prefix)) == 0)))
    {
      f = self->fault;
      if (self->times > 0)
        self->times--;
    }
  else if (self->p > 0 && g_rand_double (self->rand) < self->p)
    {
      do
        f = (KhFault) g_rand_int_range (self->rand, 1, KH_FAULT_TWICE + 1);
      while (f == KH_FAULT_STALL);
    }
  self->counts[f]++;
  g_mutex_unlock (&self->lock);
  return f;
}

static gpointer
serve_client (gpointer data)
{
  KhFaultProxy *self = ((gpointer *) data)[0];
  int fd = GPOINTER_TO_INT (((gpointer *) data)[1]);

  g_free (data);
  for (;;)
    {
      g_autoptr(GByteArray) request = read_request (fd);
      g_autoptr(GByteArray) answer = NULL;
      g_autoptr(GBytes) canned = NULL;
      KhFault fault;

      if (request == NULL)
        break;
      fault = choose (self, request, &canned);
      if (canned != NULL)
        {
          gsize len;
          const char *raw = g_bytes_get_data (canned, &len);

          write_all (fd, raw, len);
          close (fd);
          return NULL;
        }
      switch (fault)
        {
        case KH_FAULT_RESET_BEFORE:
          reset_close (fd);
          return NULL;
        case KH_FAULT_500:
          {
            const char *body = "{\"error\":{\"code\":\"internal\",\"message\":\"Injected failure.\"}}";
            g_autofree char *msg = g_strdup_printf ("HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
                                                    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", strlen (body), body);
            write_all (fd, msg, strlen (msg));
            close (fd);
            return NULL;
          }
        case KH_FAULT_503:
          {
            const char *body = "{\"error\":{\"code\":\"busy\",\"message\":\"Injected busy.\"}}";
            g_autofree char *msg = g_strdup_printf ("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                                                    "Retry-After: 1\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                                                    strlen (body), body);
            write_all (fd, msg, strlen (msg));
            close (fd);
            return NULL;
          }
        case KH_FAULT_TWICE:
          {
            g_autoptr(GByteArray) first = forward (self, request, fd);
            answer = forward (self, request, fd);
          }
          break;
        case KH_FAULT_CUT_REQUEST:
          {
            gsize cut;

            g_mutex_lock (&self->lock);
            cut = (gsize) g_rand_int_range (self->rand, 1, (gint32) MAX (request->len, 2));
            g_mutex_unlock (&self->lock);
            forward_cut (self, request, cut);
            reset_close (fd);
            return NULL;
          }
        case KH_FAULT_CUT_ANSWER:
        case KH_FAULT_NONE:
        case KH_FAULT_RESET_AFTER:
        case KH_FAULT_TRUNCATE:
        case KH_FAULT_DELAY:
        case KH_FAULT_STALL:
        case KH_N_FAULTS:
        default:
          answer = forward (self, request, fd);
          break;
        }
      if (answer == NULL)
        break;
      if (fault == KH_FAULT_RESET_AFTER)
        {
          reset_close (fd);
          return NULL;
        }
      if (fault == KH_FAULT_TRUNCATE)
        {
          write_all (fd, (const char *) answer->data, answer->len / 2);
          close (fd);
          return NULL;
        }
      if (fault == KH_FAULT_CUT_ANSWER)
        {
          gsize cut;

          g_mutex_lock (&self->lock);
          cut = (gsize) g_rand_int_range (self->rand, 1, (gint32) MAX (answer->len, 2));
          g_mutex_unlock (&self->lock);
          wait_latency (self);
          write_paced (self, fd, (const char *) answer->data, cut);
          reset_close (fd);
          return NULL;
        }
      if (fault == KH_FAULT_DELAY)
        g_usleep (300 * 1000);
      if (fault == KH_FAULT_STALL)
        {
          write_all (fd, (const char *) answer->data, MIN (answer->len, 20));
          g_usleep (3500 * 1000);
          close (fd);
          return NULL;
        }
      wait_latency (self);
      if (!write_paced (self, fd, (const char *) answer->data, answer->len))
        break;
      /* The server closed after its answer (Connection: close); so does the proxy. */
      break;
    }
  close (fd);
  return NULL;
}

static gpointer
accept_loop (gpointer data)
{
  KhFaultProxy *self = data;

  for (;;)
    {
      struct pollfd pfd = { self->listen_fd, POLLIN, 0 };
      gpointer *args;
      int fd;
      int one = 1;

      if (poll (&pfd, 1, 100) <= 0)
        {
          gboolean stop;

          g_mutex_lock (&self->lock);
          stop = self->stopping;
          g_mutex_unlock (&self->lock);
          if (stop)
            return NULL;
          continue;
        }
      fd = accept (self->listen_fd, NULL, NULL);
      if (fd < 0)
        continue;
      setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      args = g_new (gpointer, 2);
      args[0] = self;
      args[1] = GINT_TO_POINTER (fd);
      g_mutex_lock (&self->lock);
      g_ptr_array_add (self->workers, g_thread_new ("fault-proxy", serve_client, args));
      g_mutex_unlock (&self->lock);
    }
}

KhFaultProxy *
kh_fault_proxy_new (int     upstream_port,
                    guint32 seed)
{
  KhFaultProxy *self = g_new0 (KhFaultProxy, 1);
  struct sockaddr_in addr = { 0 };
  socklen_t len = sizeof addr;
  int one = 1;

  g_mutex_init (&self->lock);
  self->rand = g_rand_new_with_seed (seed);
  self->upstream_port = upstream_port;
  self->workers = g_ptr_array_new ();
  self->listen_fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  setsockopt (self->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (bind (self->listen_fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  g_assert_cmpint (listen (self->listen_fd, 64), ==, 0);
  getsockname (self->listen_fd, (struct sockaddr *) &addr, &len);
  self->port = ntohs (addr.sin_port);
  self->acceptor = g_thread_new ("fault-proxy-accept", accept_loop, self);
  return self;
}

void
kh_fault_proxy_free (KhFaultProxy *self)
{
  if (self == NULL)
    return;
  g_mutex_lock (&self->lock);
  self->stopping = TRUE;
  g_mutex_unlock (&self->lock);
  g_thread_join (self->acceptor);
  close (self->listen_fd);
  /* Workers end when their client or the server closes; the engine's handles are gone by now. */
  for (guint i = 0; i < self->workers->len; i++)
    g_thread_join (self->workers->pdata[i]);
  g_ptr_array_unref (self->workers);
  g_rand_free (self->rand);
  g_free (self->prefix);
  g_free (self->answer_prefix);
  g_clear_pointer (&self->answer, g_bytes_unref);
  g_mutex_clear (&self->lock);
  g_free (self);
}

int
kh_fault_proxy_get_port (KhFaultProxy *self)
{
  return self->port;
}

void
kh_fault_proxy_set_fault (KhFaultProxy *self,
                          KhFault       fault,
                          const char   *prefix,
                          int           times)
{
  g_mutex_lock (&self->lock);
  self->fault = fault;
  g_free (self->prefix);
  self->prefix = g_strdup (prefix);
  self->times = times;
  g_mutex_unlock (&self->lock);
}

void
kh_fault_proxy_set_answer (KhFaultProxy *self,
                           const char   *prefix,
                           GBytes       *raw)
{
  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->answer, g_bytes_unref);
  g_free (self->answer_prefix);
  self->answer_prefix = g_strdup (prefix);
  if (raw != NULL)
    self->answer = g_bytes_ref (raw);
  g_mutex_unlock (&self->lock);
}

void
kh_fault_proxy_set_random (KhFaultProxy *self,
                           double        p)
{
  g_mutex_lock (&self->lock);
  self->p = p;
  g_mutex_unlock (&self->lock);
}

guint
kh_fault_proxy_get_count (KhFaultProxy *self,
                          KhFault       fault)
{
  guint n;

  g_mutex_lock (&self->lock);
  n = self->counts[fault];
  g_mutex_unlock (&self->lock);
  return n;
}

void
kh_fault_proxy_set_link (KhFaultProxy *self,
                         guint         bytes_per_second,
                         guint         latency_ms)
{
  g_mutex_lock (&self->lock);
  self->rate = bytes_per_second;
  self->latency_ms = latency_ms;
  g_mutex_unlock (&self->lock);
}

guint64
kh_fault_proxy_get_bytes_up (KhFaultProxy *self)
{
  guint64 n;

  g_mutex_lock (&self->lock);
  n = self->bytes_up;
  g_mutex_unlock (&self->lock);
  return n;
}
