/* kh-server-gate.c: request heads read before libmicrohttpd takes a connection
 *
 * libmicrohttpd answers some requests itself, in HTML, before the server sees them: an
 * unsupported HTTP version, a malformed or overflowing Content-Length, a header line without
 * a colon, headers beyond its memory, malformed chunks. The protocol's answers are all JSON
 * (PROTOCOL.md §1), so over plain HTTP the server accepts connections itself: a thread waits
 * for each new connection's request head, looks at it with recv(MSG_PEEK) (the bytes stay in
 * the socket for libmicrohttpd to read), refuses in JSON what libmicrohttpd would refuse, and
 * hands every other connection to libmicrohttpd (MHD_add_connection()). What lies past the
 * head is libmicrohttpd's to read: a malformed chunk of a body sent in chunks, and the later
 * requests of a connection kept alive, whose heads are not looked at here (SECURITY.md says
 * what that leaves). Under native TLS the bytes are encrypted and libmicrohttpd listens itself.
 *
 * While waiting for its head a connection is held to the request deadline from its accept, to
 * the connections-per-address limit (through admit()), and, past the connection limit, the
 * ones waiting longest are closed, as the watchdog does for libmicrohttpd's connections.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "kh-server-gate.h"

/* The request line holds the URL and a method and version of a few bytes each. */
#define MAX_REQUEST_LINE (KH_HTTP_MAX_URL + 64)
#define MAX_HEAD         (MAX_REQUEST_LINE + KH_HTTP_MAX_HEADERS)
/* Over the limit, a connection waiting longer than this for its head may be closed. */
#define SHED_AFTER       (G_USEC_PER_SEC / 2)
/* A refused connection is read and dropped for this long after its answer, so that closing
 * it with bytes unread does not reset it before the client reads the answer. */
#define LINGER           (2 * G_USEC_PER_SEC)

/* The head -------------------------------------------------------------------------------- */

static KhHeadVerdict
refuse (KhHeadRefusal *refusal,
        guint          status,
        KhSyncError    code,
        const char    *message)
{
  refusal->status = status;
  refusal->code = code;
  refusal->message = message;
  return KH_HEAD_REFUSE;
}

static KhHeadVerdict
malformed (KhHeadRefusal *refusal)
{
  return refuse (refusal, 400, KH_SYNC_ERROR_INVALID, _("The request is not well-formed HTTP/1.1."));
}

/* RFC 9110's token characters: a method and a header's name. */
static gboolean
is_tchar (guchar c)
{
  return g_ascii_isalnum (c) || (c != '\0' && strchr ("!#$%&'*+-.^_`|~", c) != NULL);
}

/* The line at @p (up to @end), without its CR LF or LF: its length, and @next after it; -1
 * when its end has not arrived. */
static gssize
line_at (const char  *p,
         const char  *end,
         const char **next)
{
  const char *lf = memchr (p, '\n', (gsize) (end - p));

  if (lf == NULL)
    return -1;
  *next = lf + 1;
  return lf > p && lf[-1] == '\r' ? lf - p - 1 : lf - p;
}

/* Checks the request line @line (@len bytes, complete). */
static KhHeadVerdict
check_request_line (const char    *line,
                    gsize          len,
                    KhHeadRefusal *refusal)
{
  const char *sp1 = memchr (line, ' ', len);
  const char *sp2 = line + len;
  const char *version;
  gsize vlen;

  if (sp1 == NULL || sp1 == line)
    return malformed (refusal);
  /* The last space: the version follows it. */
  while (sp2[-1] != ' ')
    sp2--;
  sp2--;
  if (sp2 == sp1)
    return malformed (refusal);
  for (const char *p = line; p < sp1; p++)
    if (!is_tchar ((guchar) *p))
      return malformed (refusal);
  if ((gsize) (sp2 - sp1 - 1) > KH_HTTP_MAX_URL)
    return refuse (refusal, 414, KH_SYNC_ERROR_TOO_LARGE, _("The URL is too long."));
  for (const char *p = sp1 + 1; p < sp2; p++)
    if ((guchar) *p <= ' ' || *p == 0x7f)
      return malformed (refusal);
  version = sp2 + 1;
  vlen = len - (gsize) (version - line);
  if (vlen != 8 || memcmp (version, "HTTP/", 5) != 0 || !g_ascii_isdigit (version[5])
      || version[6] != '.' || !g_ascii_isdigit (version[7]))
    return malformed (refusal);
  /* libmicrohttpd takes any HTTP/1.x as 1.1 would be taken. */
  if (version[5] != '1')
    return refuse (refusal, 505, KH_SYNC_ERROR_INVALID, _("The server speaks HTTP/1.1 only."));
  return KH_HEAD_PASS;
}

/* Checks a Content-Length value: *length is its number, the first one's. */
static KhHeadVerdict
check_content_length (const char    *value,
                      gsize          len,
                      gboolean      *seen,
                      guint64       *length,
                      KhHeadRefusal *refusal)
{
  guint64 n = 0;

  if (len == 0)
    return malformed (refusal);
  for (gsize i = 0; i < len; i++)
    {
      if (!g_ascii_isdigit (value[i]))
        return malformed (refusal);
      if (n > (G_MAXUINT64 - (guint64) (value[i] - '0')) / 10)
        return refuse (refusal, 413, KH_SYNC_ERROR_TOO_LARGE, _("The body is too large."));
      n = n * 10 + (guint64) (value[i] - '0');
    }
  /* Two lengths that differ would be read one way here and another by a proxy. */
  if (*seen && n != *length)
    return malformed (refusal);
  *seen = TRUE;
  *length = n;
  return KH_HEAD_PASS;
}

KhHeadVerdict
kh_http_head_check (const char    *buf,
                    gsize          len,
                    KhHeadRefusal *refusal)
{
  const char *end = buf + len;
  const char *p = buf;
  const char *next;
  const char *headers;
  gssize n;
  gboolean seen_length = FALSE;
  gboolean chunked = FALSE;
  guint64 length = 0;
  KhHeadVerdict verdict;

  /* Empty lines before a request are skipped, as libmicrohttpd does. */
  while (p < end && (*p == '\r' || *p == '\n'))
    p++;
  n = line_at (p, end, &next);
  if (n < 0)
    {
      /* What has come of the method so far must be a token: a stray TLS handshake or other
       * protocol is told at once, not at its deadline. */
      for (const char *q = p; q < end && *q != ' '; q++)
        if (!is_tchar ((guchar) *q))
          return malformed (refusal);
      if (end - p > MAX_REQUEST_LINE)
        return refuse (refusal, 414, KH_SYNC_ERROR_TOO_LARGE, _("The URL is too long."));
      return KH_HEAD_INCOMPLETE;
    }
  if (memchr (p, '\0', (gsize) n) != NULL)
    return malformed (refusal);
  if ((verdict = check_request_line (p, (gsize) n, refusal)) != KH_HEAD_PASS)
    return verdict;

  headers = p = next;
  for (;;)
    {
      const char *colon;
      const char *value, *value_end;

      n = line_at (p, end, &next);
      if (n < 0)
        {
          if (end - headers > KH_HTTP_MAX_HEADERS)
            return refuse (refusal, 431, KH_SYNC_ERROR_TOO_LARGE, _("The request's headers are too long."));
          return KH_HEAD_INCOMPLETE;
        }
      if (next - headers > KH_HTTP_MAX_HEADERS)
        return refuse (refusal, 431, KH_SYNC_ERROR_TOO_LARGE, _("The request's headers are too long."));
      if (n == 0)
        break;
      if (memchr (p, '\0', (gsize) n) != NULL)
        return malformed (refusal);
      if (*p == ' ' || *p == '\t')
        {
          /* A folded line continues the header before it; there must be one. */
          if (p == headers)
            return malformed (refusal);
          p = next;
          continue;
        }
      colon = memchr (p, ':', (gsize) n);
      if (colon == NULL || colon == p)
        return malformed (refusal);
      for (const char *q = p; q < colon; q++)
        if (!is_tchar ((guchar) *q))
          return malformed (refusal);
      value = colon + 1;
      value_end = p + n;
      while (value < value_end && (*value == ' ' || *value == '\t'))
        value++;
      while (value_end > value && (value_end[-1] == ' ' || value_end[-1] == '\t'))
        value_end--;
      if (colon - p == 14 && g_ascii_strncasecmp (p, "Content-Length", 14) == 0)
        {
          verdict = check_content_length (value, (gsize) (value_end - value), &seen_length,
                                          &length, refusal);
          if (verdict != KH_HEAD_PASS)
            return verdict;
        }
      else if (colon - p == 17 && g_ascii_strncasecmp (p, "Transfer-Encoding", 17) == 0)
        {
          /* Chunks alone, once: libmicrohttpd reads no other coding (it would wait for the
           * body until the deadline). */
          if (chunked || value_end - value != 7 || g_ascii_strncasecmp (value, "chunked", 7) != 0)
            return refuse (refusal, 501, KH_SYNC_ERROR_INVALID,
                           _("The server takes a body as it is or in chunks, in no other transfer coding."));
          chunked = TRUE;
        }
      p = next;
    }
  return KH_HEAD_PASS;
}

char *
kh_http_head_answer (const KhHeadRefusal *refusal,
                     gsize               *len)
{
  g_autoptr(json_object) body = kh_codec_error_to_json (refusal->code, refusal->message);
  gsize body_len;
  const char *text = kh_codec_to_string (body, &body_len);
  const char *reason = MHD_get_reason_phrase_for (refusal->status);
  char *answer;

  answer = g_strdup_printf ("HTTP/1.1 %u %s\r\nContent-Type: application/json\r\nConnection: close\r\n"
                            "Content-Length: %zu\r\n\r\n%s", refusal->status,
                            reason != NULL && *reason != '\0' ? reason : "Error", (size_t) body_len, text);
  *len = strlen (answer);
  return answer;
}

/* The gate -------------------------------------------------------------------------------- */

typedef struct
{
  int                     fd;
  struct sockaddr_storage addr;
  socklen_t               addr_len;
  char                   *ticket;
  gint64                  since;     /* monotonic µs of its accept */
  gint64                  closing;   /* refused: when its answer was sent, else 0 */
  GList                   link;      /* in the gate's order while waiting */
} Waiting;

struct _KhHttpGate
{
  KhHttpGateHooks  hooks;
  int              listen_fd;
  int              epoll_fd;
  int              stop_fd;
  GThread         *thread;
  GHashTable      *waiting;  /* fd → Waiting */
  guint            n_waiting;  /* not counting those refused */
  guint            n_closing;  /* those refused, lingering */
  GQueue           order;      /* those waiting for their head, the longest waiting first */
  char            *buffer;     /* MAX_HEAD + 1 bytes */
};

int
kh_http_gate_listen (const struct sockaddr *addr,
                     socklen_t              addr_len)
{
  int fd = socket (addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1, zero = 0;
  int saved;

  if (fd < 0)
    return -1;
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  /* [::] takes IPv4 clients too. */
  if (addr->sa_family == AF_INET6)
    setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  if (bind (fd, addr, addr_len) == 0 && listen (fd, 1024) == 0)
    return fd;
  saved = errno;
  close (fd);
  errno = saved;
  return -1;
}

static void
forget (KhHttpGate *gate,
        Waiting    *w,
        gboolean    close_fd)
{
  epoll_ctl (gate->epoll_fd, EPOLL_CTL_DEL, w->fd, NULL);
  if (w->closing == 0)
    {
      g_queue_unlink (&gate->order, &w->link);
      gate->n_waiting--;
      gate->hooks.release (gate->hooks.data, g_steal_pointer (&w->ticket));
    }
  else
    gate->n_closing--;
  if (close_fd)
    close (w->fd);
  g_hash_table_remove (gate->waiting, GINT_TO_POINTER (w->fd));
}

/* Answers @w's refusal, then reads and drops what it still sends until it closes or LINGER
 * passes. */
static void
answer (KhHttpGate          *gate,
        Waiting             *w,
        const KhHeadRefusal *refusal)
{
  gsize len;
  g_autofree char *text = kh_http_head_answer (refusal, &len);

  g_queue_unlink (&gate->order, &w->link);
  gate->n_waiting--;
  gate->hooks.release (gate->hooks.data, g_steal_pointer (&w->ticket));
  w->closing = g_get_monotonic_time ();
  gate->n_closing++;
  /* Those lingering are bounded too: past the bound, one is closed at once. */
  if (send (w->fd, text, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 || shutdown (w->fd, SHUT_WR) < 0
      || gate->n_closing > gate->hooks.max_waiting)
    forget (gate, w, TRUE);
}

static void
readable (KhHttpGate *gate,
          Waiting    *w)
{
  KhHeadRefusal refusal;
  ssize_t got;

  if (w->closing != 0)
    {
      do
        got = recv (w->fd, gate->buffer, MAX_HEAD + 1, MSG_DONTWAIT);
      while (got > 0);
      if (got == 0 || (errno != EAGAIN && errno != EINTR))
        forget (gate, w, TRUE);
      return;
    }
  /* Edge-triggered: looked at again only when more has come. */
  got = recv (w->fd, gate->buffer, MAX_HEAD + 1, MSG_PEEK | MSG_DONTWAIT);
  if (got < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (got <= 0)
    {
      /* Closed, or failed, before a head came: nothing to answer. */
      forget (gate, w, TRUE);
      return;
    }
  switch (kh_http_head_check (gate->buffer, (gsize) got, &refusal))
    {
    case KH_HEAD_INCOMPLETE:
      break;
    case KH_HEAD_REFUSE:
      answer (gate, w, &refusal);
      break;
    case KH_HEAD_PASS:
      {
        int fd = w->fd;
        struct sockaddr_storage addr = w->addr;
        socklen_t addr_len = w->addr_len;

        forget (gate, w, FALSE);
        gate->hooks.hand (gate->hooks.data, fd, (struct sockaddr *) &addr, addr_len);
      }
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
accept_all (KhHttpGate *gate)
{
  for (;;)
    {
      struct sockaddr_storage addr;
      socklen_t addr_len = sizeof addr;
      int fd;
      struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
      char *ticket = NULL;
      Waiting *w;

      fd = accept (gate->listen_fd, (struct sockaddr *) &addr, &addr_len);
      if (fd < 0)
        {
          /* Out of descriptors or memory: the listening socket stays readable, so wait a
           * little rather than spin. */
          if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
            g_usleep (G_USEC_PER_SEC / 100);
          return;
        }
      fcntl (fd, F_SETFD, FD_CLOEXEC);
      fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) | O_NONBLOCK);
      if (!gate->hooks.admit (gate->hooks.data, (struct sockaddr *) &addr, addr_len, &ticket))
        {
          close (fd);
          continue;
        }
      w = g_new0 (Waiting, 1);
      w->fd = fd;
      w->addr = addr;
      w->addr_len = addr_len;
      w->ticket = ticket;
      w->since = g_get_monotonic_time ();
      w->link.data = w;
      ev.data.fd = fd;
      g_hash_table_insert (gate->waiting, GINT_TO_POINTER (fd), w);
      g_queue_push_tail_link (&gate->order, &w->link);
      gate->n_waiting++;
      if (epoll_ctl (gate->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
        forget (gate, w, TRUE);
      /* Full, the one waiting longest makes room: a request that arrives whole (a health
       * check, a login) is always taken, and handed on as soon as its head is read. */
      if (gate->n_waiting > gate->hooks.max_waiting)
        forget (gate, gate->order.head->data, TRUE);
    }
}

static int
compare_since (gconstpointer a,
               gconstpointer b)
{
  const Waiting *x = *(Waiting * const *) a;
  const Waiting *y = *(Waiting * const *) b;

  return x->since < y->since ? -1 : x->since > y->since;
}

/* Closes those past their deadline, and past the limit the ones waiting longest. */
static void
sweep (KhHttpGate *gate)
{
  gint64 now = g_get_monotonic_time ();
  gint64 deadline = (gint64) gate->hooks.seconds * G_USEC_PER_SEC;
  g_autoptr(GPtrArray) over = g_ptr_array_new ();
  g_autoptr(GPtrArray) old = g_ptr_array_new ();
  GHashTableIter iter;
  Waiting *w;

  g_hash_table_iter_init (&iter, gate->waiting);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &w))
    {
      if (w->closing != 0 ? now - w->closing > LINGER : now - w->since > deadline)
        g_ptr_array_add (over, w);
      else if (w->closing == 0 && now - w->since > SHED_AFTER)
        g_ptr_array_add (old, w);
    }
  for (guint i = 0; i < over->len; i++)
    forget (gate, over->pdata[i], TRUE);
  if (gate->n_waiting > gate->hooks.shed_above)
    {
      guint excess = gate->n_waiting - gate->hooks.shed_above;

      g_ptr_array_sort (old, compare_since);
      for (guint i = 0; i < MIN (excess, old->len); i++)
        forget (gate, old->pdata[i], TRUE);
    }
}

static gpointer
gate_thread (gpointer data)
{
  KhHttpGate *gate = data;
  struct epoll_event events[64];
  gint64 last_sweep = 0;

  for (;;)
    {
      int n = epoll_wait (gate->epoll_fd, events, G_N_ELEMENTS (events), 100);

      for (int i = 0; i < n; i++)
        {
          int fd = events[i].data.fd;
          Waiting *w;

          if (fd == gate->stop_fd)
            return NULL;
          if (fd == gate->listen_fd)
            accept_all (gate);
          else if ((w = g_hash_table_lookup (gate->waiting, GINT_TO_POINTER (fd))) != NULL)
            readable (gate, w);
        }
      if (g_get_monotonic_time () - last_sweep > G_USEC_PER_SEC / 10)
        {
          sweep (gate);
          last_sweep = g_get_monotonic_time ();
        }

    }
}

KhHttpGate *
kh_http_gate_start (int                    listen_fd,
                    const KhHttpGateHooks *hooks)
{
  KhHttpGate *gate = g_new0 (KhHttpGate, 1);
  struct epoll_event ev = { .events = EPOLLIN };

  gate->hooks = *hooks;
  gate->listen_fd = listen_fd;
  gate->epoll_fd = epoll_create1 (EPOLL_CLOEXEC);
  gate->stop_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  gate->waiting = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  gate->buffer = g_malloc (MAX_HEAD + 1);
  ev.data.fd = listen_fd;
  epoll_ctl (gate->epoll_fd, EPOLL_CTL_ADD, listen_fd, &ev);
  ev.data.fd = gate->stop_fd;
  epoll_ctl (gate->epoll_fd, EPOLL_CTL_ADD, gate->stop_fd, &ev);
  gate->thread = g_thread_new ("kh-http-gate", gate_thread, gate);
  return gate;
}

void
kh_http_gate_stop (KhHttpGate *gate)
{
  GHashTableIter iter;
  Waiting *w;
  guint64 one = 1;

  if (gate == NULL)
    return;
  if (write (gate->stop_fd, &one, sizeof one) < 0)
    g_warning ("the gate's thread could not be told to stop: %s", g_strerror (errno));
  g_thread_join (gate->thread);
  g_hash_table_iter_init (&iter, gate->waiting);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &w))
    {
      if (w->closing == 0)
        gate->hooks.release (gate->hooks.data, g_steal_pointer (&w->ticket));
      close (w->fd);
    }
  g_hash_table_unref (gate->waiting);
  close (gate->listen_fd);
  close (gate->epoll_fd);
  close (gate->stop_fd);
  g_free (gate->buffer);
  g_free (gate);
}
