/* kh-http.c: the sync engine's HTTP client
 *
 * One CURL handle per engine run, so the connection is kept alive between requests. Bodies are
 * compressed here (not by libcurl) in both directions, so the byte counters are what went
 * over the wire and an answer that inflates beyond the limit is stopped while it is read:
 * requests in gzip, answers in zstd when the server offers it (about ten times less work than
 * gzip for the server, which compresses every page of a first pull), else gzip. TLS
 * peer and host verification stay on; a private server's CA can be given as a file. Proxies
 * come from the environment (http_proxy, https_proxy, no_proxy), as libcurl does by default.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <curl/curl.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "kh-codec.h"
#include "kh-http-private.h"

struct _KhHttp
{
  CURL           *curl;
  char           *base_url;
  char           *token;
  CURLM          *multi;   /* runs the transfers: it keeps the connections, and a cancel wakes it */
  KhHttpOptions   options;
  char           *ca_file;
  KhHttpCounters  counters;

  /* Per request. */
  GByteArray     *body;
  gboolean        too_large;
  gboolean        gzip;
  gboolean        zstd;
  double          retry_after;
  gboolean        raw;      /* the payload is bytes as they are (a piece of a file), not JSON */
  GCancellable   *cancellable;
  char            errbuf[CURL_ERROR_SIZE];
};

static gpointer
global_init (gpointer data)
{
  curl_global_init (CURL_GLOBAL_DEFAULT);
  return NULL;
}

KhHttp *
kh_http_new (const char          *base_url,
             const KhHttpOptions *options)
{
  static GOnce once = G_ONCE_INIT;
  KhHttp *self;

  g_once (&once, global_init, NULL);

  self = g_new0 (KhHttp, 1);
  self->curl = curl_easy_init ();
  self->multi = curl_multi_init ();
  self->base_url = g_strdup (base_url);
  /* A trailing slash would double in "/v1/…". */
  while (self->base_url[0] != '\0' && g_str_has_suffix (self->base_url, "/"))
    self->base_url[strlen (self->base_url) - 1] = '\0';
  self->options = *options;
  self->ca_file = g_strdup (options->ca_file);
  self->options.ca_file = self->ca_file;
  return self;
}

void
kh_http_free (KhHttp *self)
{
  if (self == NULL)
    return;
  /* The connections the multi handle keeps are closed with it, after the easy handle. */
  if (self->curl != NULL)
    curl_easy_cleanup (self->curl);
  if (self->multi != NULL)
    curl_multi_cleanup (self->multi);
  g_free (self->base_url);
  if (self->token != NULL)
    memset (self->token, 0, strlen (self->token));
  g_free (self->token);
  g_free (self->ca_file);
  g_clear_pointer (&self->body, g_byte_array_unref);
  g_free (self);
}

void
kh_http_set_token (KhHttp     *self,
                   const char *token)
{
  g_free (self->token);
  self->token = g_strdup (token);
}

const KhHttpCounters *
kh_http_get_counters (KhHttp *self)
{
  return &self->counters;
}

char *
kh_http_escape (KhHttp     *self,
                const char *text)
{
  char *e = curl_easy_escape (self->curl, text, 0);
  char *copy = g_strdup (e);

  curl_free (e);
  return copy;
}

static size_t
write_cb (char   *data,
          size_t  size,
          size_t  n,
          void   *user)
{
  KhHttp *self = user;
  size_t len = size * n;

  self->counters.bytes_received += len;
  if (self->body->len + len > self->options.max_body)
    {
      self->too_large = TRUE;
      return 0; /* stops the transfer */
    }
  g_byte_array_append (self->body, (const guint8 *) data, len);
  return len;
}

static size_t
header_cb (char   *data,
           size_t  size,
           size_t  n,
           void   *user)
{
  KhHttp *self = user;
  size_t len = size * n;
  g_autofree char *line = g_strndup (data, len);

  g_strstrip (line);
  if (g_ascii_strncasecmp (line, "content-encoding:", 17) == 0)
    {
      const char *v = line + 17;

      while (*v == ' ')
        v++;
      self->gzip = g_ascii_strcasecmp (v, "gzip") == 0;
      self->zstd = g_ascii_strcasecmp (v, "zstd") == 0;
    }
  else if (g_ascii_strncasecmp (line, "retry-after:", 12) == 0)
    self->retry_after = g_ascii_strtod (line + 12, NULL);
  else if (g_str_has_prefix (line, "HTTP/"))
    {
      /* A new response (after a redirect or 100-continue): forget what the last one said. */
      self->gzip = FALSE;
      self->zstd = FALSE;
      self->retry_after = 0;
    }
  return len;
}

static int
progress_cb (void       *user,
             curl_off_t  dltotal,
             curl_off_t  dlnow,
             curl_off_t  ultotal,
             curl_off_t  ulnow)
{
  KhHttp *self = user;

  return g_cancellable_is_cancelled (self->cancellable) ? 1 : 0;
}

static GBytes *
gzip_compress (const char *data,
               gsize       len)
{
  z_stream z = { 0 };
  gsize cap = compressBound (len) + 64;
  guint8 *out = g_malloc (cap);

  deflateInit2 (&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  z.next_in = (Bytef *) data;
  z.avail_in = len;
  z.next_out = out;
  z.avail_out = cap;
  deflate (&z, Z_FINISH);
  cap = z.total_out;
  deflateEnd (&z);
  return g_bytes_new_take (out, cap);
}

static GByteArray *
gzip_inflate (const guint8  *data,
              gsize          len,
              gsize          max,
              GError       **error)
{
  z_stream z = { 0 };
  GByteArray *out = g_byte_array_new ();
  guint8 buf[65536];
  int rc;

  inflateInit2 (&z, 15 + 32);
  z.next_in = (Bytef *) data;
  z.avail_in = len;
  do
    {
      z.next_out = buf;
      z.avail_out = sizeof buf;
      rc = inflate (&z, Z_NO_FLUSH);
      if (rc != Z_OK && rc != Z_STREAM_END)
        break;
      g_byte_array_append (out, buf, sizeof buf - z.avail_out);
      if (out->len > max)
        {
          inflateEnd (&z);
          g_byte_array_unref (out);
          g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_TOO_LARGE,
                               _("The server's answer is too large; nothing was changed."));
          return NULL;
        }
    }
  while (rc != Z_STREAM_END && (z.avail_in > 0 || z.avail_out == 0));
  inflateEnd (&z);
  if (rc != Z_STREAM_END)
    {
      g_byte_array_unref (out);
      g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_BAD_JSON,
                           _("The server's answer is cut short or badly compressed; nothing was changed."));
      return NULL;
    }
  return out;
}

static GByteArray *
zstd_decompress (const guint8  *data,
                 gsize          len,
                 gsize          max,
                 GError       **error)
{
  ZSTD_DStream *z = ZSTD_createDStream ();
  GByteArray *out = g_byte_array_new ();
  ZSTD_inBuffer in = { data, len, 0 };
  size_t rc = 1;

  ZSTD_initDStream (z);
  /* One frame; rc is 0 once it is whole. */
  while (in.pos < in.size)
    {
      gsize at = out->len;
      ZSTD_outBuffer o;

      g_byte_array_set_size (out, at + ZSTD_DStreamOutSize ());
      o.dst = out->data + at;
      o.size = ZSTD_DStreamOutSize ();
      o.pos = 0;
      rc = ZSTD_decompressStream (z, &o, &in);
      g_byte_array_set_size (out, at + o.pos);
      if (ZSTD_isError (rc))
        break;
      if (out->len > max)
        {
          ZSTD_freeDStream (z);
          g_byte_array_unref (out);
          g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_TOO_LARGE,
                               _("The server's answer is too large; nothing was changed."));
          return NULL;
        }
      if (rc == 0)
        break;
    }
  ZSTD_freeDStream (z);
  if (ZSTD_isError (rc) || rc != 0 || in.pos != in.size)
    {
      g_byte_array_unref (out);
      g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_BAD_JSON,
                           _("The server's answer is cut short or badly compressed; nothing was changed."));
      return NULL;
    }
  return out;
}

static void
wake_cb (GCancellable *cancellable,
         gpointer      data)
{
  curl_multi_wakeup (data);
}

/* Runs the request set up on self->curl. libcurl's progress callback, through which
 * curl_easy_perform() could be stopped, is called only about once a second while the link is
 * silent: a cancel waited up to that long. Here the transfer runs in the multi handle, whose wait
 * a cancel ends at once (curl_multi_wakeup() is safe from any thread). */
static CURLcode
run_transfer (KhHttp *self)
{
  CURLcode rc = CURLE_OK;
  CURLMcode mc = CURLM_OK;
  gboolean done = FALSE;
  gulong handler = 0;
  int running = 1;

  if (self->multi == NULL || curl_multi_add_handle (self->multi, self->curl) != CURLM_OK)
    return curl_easy_perform (self->curl);
  if (self->cancellable != NULL)
    handler = g_cancellable_connect (self->cancellable, G_CALLBACK (wake_cb), self->multi, NULL);
  while (!done && (mc = curl_multi_perform (self->multi, &running)) == CURLM_OK)
    {
      CURLMsg *msg;
      int left;

      while ((msg = curl_multi_info_read (self->multi, &left)) != NULL)
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == self->curl)
          {
            rc = msg->data.result;
            done = TRUE;
          }
      if (!done && g_cancellable_is_cancelled (self->cancellable))
        {
          rc = CURLE_ABORTED_BY_CALLBACK;
          done = TRUE;
        }
      /* At most a second, or less when libcurl has a timer of its own (a timeout, a retry). */
      if (!done && (mc = curl_multi_poll (self->multi, NULL, 0, 1000, NULL)) != CURLM_OK)
        break;
    }
  if (mc != CURLM_OK)
    {
      /* Only out of memory, in practice; the message says what libcurl says. */
      g_strlcpy (self->errbuf, curl_multi_strerror (mc), sizeof self->errbuf);
      rc = CURLE_OUT_OF_MEMORY;
    }
  if (handler != 0)
    g_cancellable_disconnect (self->cancellable, handler);
  curl_multi_remove_handle (self->multi, self->curl);
  return rc;
}

static gboolean
sleep_cancellable (double         seconds,
                   GCancellable  *cancellable)
{
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);

  while (g_get_monotonic_time () < end)
    {
      if (g_cancellable_is_cancelled (cancellable))
        return FALSE;
      g_usleep (MIN (50000, MAX (0, end - g_get_monotonic_time ())));
    }
  return !g_cancellable_is_cancelled (cancellable);
}

typedef enum
{
  OUTCOME_OK,
  OUTCOME_RETRY,
  OUTCOME_FAIL,
} Outcome;

static gpointer
read_json (const char  *text,
           gsize        len,
           gpointer     user_data,
           GError     **error)
{
  return kh_codec_parse (text, len, KH_CODEC_MAX_DEPTH, error);
}

/* Sets up the handle for one request; returns the headers, to be freed after the transfer.
 * @auth holds the token's header, to be wiped then. */
static struct curl_slist *
prepare_request (KhHttp      *self,
                 const char  *url,
                 const char  *method,
                 GBytes      *payload,
                 gboolean     compressed,
                 char       **auth)
{
  struct curl_slist *headers = NULL;

  g_clear_pointer (&self->body, g_byte_array_unref);
  self->body = g_byte_array_new ();
  self->too_large = FALSE;
  self->gzip = FALSE;
  self->zstd = FALSE;
  self->retry_after = 0;
  self->errbuf[0] = '\0';

  curl_easy_reset (self->curl);
  curl_easy_setopt (self->curl, CURLOPT_URL, url);
  curl_easy_setopt (self->curl, CURLOPT_ERRORBUFFER, self->errbuf);
  curl_easy_setopt (self->curl, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt (self->curl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt (self->curl, CURLOPT_PROTOCOLS, (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  curl_easy_setopt (self->curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt (self->curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (self->ca_file != NULL)
    curl_easy_setopt (self->curl, CURLOPT_CAINFO, self->ca_file);
  curl_easy_setopt (self->curl, CURLOPT_CONNECTTIMEOUT, (long) self->options.connect_timeout);
  curl_easy_setopt (self->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt (self->curl, CURLOPT_LOW_SPEED_TIME, (long) self->options.low_speed_time);
  curl_easy_setopt (self->curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt (self->curl, CURLOPT_USERAGENT, "khuyenhoc/" PACKAGE_VERSION);
  curl_easy_setopt (self->curl, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt (self->curl, CURLOPT_WRITEDATA, self);
  curl_easy_setopt (self->curl, CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt (self->curl, CURLOPT_HEADERDATA, self);
  curl_easy_setopt (self->curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt (self->curl, CURLOPT_XFERINFOFUNCTION, progress_cb);
  curl_easy_setopt (self->curl, CURLOPT_XFERINFODATA, self);

  headers = curl_slist_append (headers, "Accept: application/json");
  headers = curl_slist_append (headers, "Accept-Encoding: zstd, gzip");
  headers = curl_slist_append (headers, "Expect:");
  if (self->token != NULL)
    {
      *auth = g_strconcat ("Authorization: Bearer ", self->token, NULL);
      headers = curl_slist_append (headers, *auth);
    }
  if (payload != NULL)
    {
      gsize plen;
      const void *pdata = g_bytes_get_data (payload, &plen);

      headers = curl_slist_append (headers, self->raw ? "Content-Type: application/octet-stream"
                                                      : "Content-Type: application/json");
      if (compressed)
        headers = curl_slist_append (headers, "Content-Encoding: gzip");
      curl_easy_setopt (self->curl, CURLOPT_POSTFIELDS, pdata);
      curl_easy_setopt (self->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) plen);
    }
  else if (strcmp (method, "GET") != 0)
    curl_easy_setopt (self->curl, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt (self->curl, CURLOPT_HTTPHEADER, headers);
  return headers;
}

/* Whether the transfer itself failed (cancelled, too large, no connection); @outcome then
 * says whether to try again. */
static gboolean
transfer_failed (KhHttp    *self,
                 CURLcode   rc,
                 Outcome   *outcome,
                 GError   **error)
{
  *outcome = OUTCOME_FAIL;
  if (rc == CURLE_ABORTED_BY_CALLBACK || g_cancellable_is_cancelled (self->cancellable))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("The sync was cancelled."));
      return TRUE;
    }
  if (self->too_large || rc == CURLE_FILESIZE_EXCEEDED)
    {
      g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_TOO_LARGE,
                           _("The server's answer is too large; nothing was changed."));
      return TRUE;
    }
  if (rc != CURLE_OK)
    {
      gboolean fatal = rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT
                       || rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE
                       || rc == CURLE_SSL_CERTPROBLEM;

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE,
                   _("Could not reach the server at %s: %s"), self->base_url,
                   self->errbuf[0] ? self->errbuf : curl_easy_strerror (rc));
      *outcome = fatal ? OUTCOME_FAIL : OUTCOME_RETRY;
      return TRUE;
    }
  return FALSE;
}

/* An error answer: the server's words when it sent them. */
static Outcome
error_answer (long          status,
              const guint8 *data,
              gsize         len,
              GError      **error)
{
  g_autoptr(GError) parse_error = NULL;
  json_object *obj = len > 0 ? kh_codec_parse ((const char *) data, len, KH_CODEC_MAX_DEPTH, &parse_error) : NULL;
  g_autofree char *code_text = NULL;
  g_autofree char *message = NULL;
  KhSyncError code = KH_SYNC_ERROR_INTERNAL;

  if (obj == NULL || !kh_codec_error_from_json (obj, &code, &code_text, &message))
    {
      code = status == 401 ? KH_SYNC_ERROR_UNAUTHORIZED
             : status == 403 ? KH_SYNC_ERROR_FORBIDDEN
             : status == 404 ? KH_SYNC_ERROR_NOT_FOUND
             : status == 408 ? KH_SYNC_ERROR_TIMEOUT
             : status == 413 ? KH_SYNC_ERROR_TOO_LARGE
             : status == 429 ? KH_SYNC_ERROR_RATE_LIMITED
             : status == 503 ? KH_SYNC_ERROR_BUSY
             : status >= 500 ? KH_SYNC_ERROR_INTERNAL : KH_SYNC_ERROR_INVALID;
      g_free (message);
      message = g_strdup_printf (_("The server answered with HTTP status %ld."), status);
    }
  json_object_put (obj);
  /* The server runs in the C locale and its fixed words are this catalogue's msgids, so the
   * officer reads them in their own language; words with values in them are shown as sent. */
  g_set_error_literal (error, KH_SYNC_ERROR, code, g_dgettext (GETTEXT_PACKAGE, message));
  return (status >= 500 || status == 408 || status == 429) ? OUTCOME_RETRY : OUTCOME_FAIL;
}

static Outcome
perform (KhHttp          *self,
         const char      *method,
         const char      *path,
         GBytes          *payload,
         gboolean         compressed,
         KhHttpReadFunc   read,
         gpointer         read_data,
         gpointer        *answer,
         GError         **error)
{
  g_autofree char *url = g_strconcat (self->base_url, path, NULL);
  g_autofree char *auth = NULL;
  struct curl_slist *headers;
  long status = 0;
  long header_size = 0;
  long request_size = 0;
  CURLcode rc;
  g_autoptr(GByteArray) plain = NULL;
  const guint8 *data;
  gsize len;
  Outcome outcome;

  headers = prepare_request (self, url, method, payload, compressed, &auth);
  rc = run_transfer (self);
  curl_slist_free_all (headers);
  if (auth != NULL)
    memset (auth, 0, strlen (auth));
  self->counters.requests++;

  curl_easy_getinfo (self->curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo (self->curl, CURLINFO_HEADER_SIZE, &header_size);
  curl_easy_getinfo (self->curl, CURLINFO_REQUEST_SIZE, &request_size);
  self->counters.bytes_received += header_size;
  self->counters.bytes_sent += request_size;

  if (transfer_failed (self, rc, &outcome, error))
    return outcome;

  data = self->body->data;
  len = self->body->len;
  if (self->gzip || self->zstd)
    {
      plain = self->zstd ? zstd_decompress (data, len, self->options.max_body, error)
                         : gzip_inflate (data, len, self->options.max_body, error);
      if (plain == NULL)
        return OUTCOME_FAIL;
      data = plain->data;
      len = plain->len;
    }

  if (status >= 200 && status < 300)
    {
      g_autoptr(GError) parse_error = NULL;

      *answer = len > 0 ? read ((const char *) data, len, read_data, &parse_error) : NULL;
      if (*answer == NULL)
        {
          g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_BAD_JSON,
                       _("The server's answer could not be read (%s); nothing was changed."),
                       len == 0 || parse_error == NULL ? _("it is empty") : parse_error->message);
          /* Often a connection cut inside the answer: try again; a server that keeps sending
           * nonsense fails after the last try with these words. */
          return OUTCOME_RETRY;
        }
      return OUTCOME_OK;
    }
  return error_answer (status, data, len, error);
}

json_object *
kh_http_request (KhHttp        *self,
                 const char    *method,
                 const char    *path,
                 json_object   *body,
                 GCancellable  *cancellable,
                 GError       **error)
{
  return kh_http_request_read (self, method, path, body, read_json, NULL, cancellable, error);
}

gpointer
kh_http_request_read (KhHttp          *self,
                      const char      *method,
                      const char      *path,
                      json_object     *body,
                      KhHttpReadFunc   read,
                      gpointer         read_data,
                      GCancellable    *cancellable,
                      GError         **error)
{
  g_autoptr(GBytes) payload = NULL;
  gboolean compressed = FALSE;

  g_return_val_if_fail (self != NULL, NULL);

  if (body != NULL)
    {
      gsize len;
      const char *text = kh_codec_to_string (body, &len);

      if (len > 256)
        {
          payload = gzip_compress (text, len);
          compressed = TRUE;
        }
      else
        payload = g_bytes_new (text, len);
    }

  self->cancellable = cancellable;
  for (int attempt = 0; ; attempt++)
    {
      g_autoptr(GError) local_error = NULL;
      gpointer answer = NULL;
      Outcome outcome = perform (self, method, path, payload, compressed, read, read_data, &answer, &local_error);
      double wait;

      if (outcome == OUTCOME_OK)
        {
          self->cancellable = NULL;
          return answer;
        }
      if (outcome == OUTCOME_FAIL || attempt + 1 >= self->options.max_attempts)
        {
          self->cancellable = NULL;
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }

      /* Exponential backoff with full jitter; the server's Retry-After when it asks for more. */
      wait = MIN (self->options.backoff_max, self->options.backoff_base * (1 << MIN (attempt, 16)));
      wait = wait / 2 + g_random_double_range (0, wait / 2);
      if (self->retry_after > wait)
        wait = MIN (self->retry_after, MAX (self->options.backoff_max, 1.0) * 10);
      g_debug ("%s %s failed (%s); retrying in %.2f s", method, path, local_error->message, wait);
      self->counters.retries++;
      if (!sleep_cancellable (wait, cancellable))
        {
          self->cancellable = NULL;
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("The sync was cancelled."));
          return NULL;
        }
    }
}

/* Sends @payload as it is (a piece of a file, never compressed: photos and PDFs do not shrink)
 * with @method, and reads the 2xx answer with @read; retried as kh_http_request_read(). */
gpointer
kh_http_request_bytes (KhHttp          *self,
                       const char      *method,
                       const char      *path,
                       GBytes          *payload,
                       KhHttpReadFunc   read,
                       gpointer         read_data,
                       GCancellable    *cancellable,
                       GError         **error)
{
  g_return_val_if_fail (self != NULL, NULL);

  self->cancellable = cancellable;
  for (int attempt = 0; ; attempt++)
    {
      g_autoptr(GError) local_error = NULL;
      gpointer answer = NULL;
      Outcome outcome;
      double wait;

      self->raw = payload != NULL;
      outcome = perform (self, method, path, payload, FALSE, read, read_data, &answer, &local_error);
      self->raw = FALSE;
      if (outcome == OUTCOME_OK)
        {
          self->cancellable = NULL;
          return answer;
        }
      if (outcome == OUTCOME_FAIL || attempt + 1 >= self->options.max_attempts)
        {
          self->cancellable = NULL;
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      wait = MIN (self->options.backoff_max, self->options.backoff_base * (1 << MIN (attempt, 16)));
      wait = wait / 2 + g_random_double_range (0, wait / 2);
      if (self->retry_after > wait)
        wait = MIN (self->retry_after, MAX (self->options.backoff_max, 1.0) * 10);
      self->counters.retries++;
      if (!sleep_cancellable (wait, cancellable))
        {
          self->cancellable = NULL;
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("The sync was cancelled."));
          return NULL;
        }
    }
}
