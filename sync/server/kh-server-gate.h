/* kh-server-gate.h: the clients' side of every connection, between them and libmicrohttpd
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <sys/socket.h>

#include "kh-codec.h"

G_BEGIN_DECLS

/* The longest URL (path and query) and request headers the server takes: longer ones are
 * refused, 414 and 431, in JSON. */
#define KH_HTTP_MAX_URL     8192
#define KH_HTTP_MAX_HEADERS (32 * 1024)

typedef enum
{
  KH_HEAD_INCOMPLETE,  /* more bytes are needed to tell */
  KH_HEAD_PASS,        /* a head libmicrohttpd reads as it should */
  KH_HEAD_REFUSE,      /* answered with the refusal below */
} KhHeadVerdict;

typedef struct
{
  guint        status;   /* HTTP status */
  KhSyncError  code;
  const char  *message;  /* translated, static */
} KhHeadRefusal;

/* A head that passed: its length (with the empty line that ends it) and how its body is sent. */
typedef struct
{
  gsize     length;
  gboolean  chunked;
  guint64   content_length;
} KhHead;

/* Checks the bytes @buf of a request's head (and what follows it); @head is set when it passes. */
KhHeadVerdict kh_http_head_check (const char    *buf,
                                  gsize          len,
                                  KhHead        *head,
                                  KhHeadRefusal *refusal);

/* The whole HTTP answer of @refusal, with its JSON error body; the connection is closed after. */
char         *kh_http_head_answer (const KhHeadRefusal *refusal,
                                   gsize               *len);

/* What the gate asks of the HTTP front. admit: whether a new connection from @addr may wait
 * for its head, *ticket being what release() is given when it stops waiting (it is handed on,
 * refused or closed). hand: gives libmicrohttpd its end of the socket pair that stands for the
 * connection (the gate keeps the other end and passes requests and answers across). */
typedef struct
{
  gboolean (*admit)   (gpointer               data,
                       const struct sockaddr *addr,
                       socklen_t              addr_len,
                       char                 **ticket);
  void     (*release) (gpointer               data,
                       char                  *ticket);
  void     (*hand)    (gpointer               data,
                       int                    fd,
                       const struct sockaddr *addr,
                       socklen_t              addr_len);
  gpointer     data;
  guint        max_waiting;   /* connections waiting for their head, at most */
  guint        shed_above;    /* above this many, the ones waiting longest make room */
  int          seconds;       /* a head's deadline from the connection's accept */
  const char  *tls_cert;      /* PEM: the gate speaks TLS with the clients; NULL: plain HTTP */
  const char  *tls_key;
} KhHttpGateHooks;

typedef struct _KhHttpGate KhHttpGate;

/* Binds and listens on @addr (port 0: a free one); -1 with errno set when it cannot. */
int         kh_http_gate_listen   (const struct sockaddr *addr,
                                   socklen_t              addr_len);
/* Takes @listen_fd and accepts on it in a thread of its own; NULL when the certificate or key
 * cannot be read. */
KhHttpGate *kh_http_gate_start    (int                    listen_fd,
                                   const KhHttpGateHooks *hooks);
/* libmicrohttpd answered a request whole on its end @fd of a connection's socket pair. */
void        kh_http_gate_answered (KhHttpGate            *gate,
                                   int                    fd);
void        kh_http_gate_stop     (KhHttpGate            *gate);

G_END_DECLS
