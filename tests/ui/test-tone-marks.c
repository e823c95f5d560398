/* test-tone-marks.c: stacked Vietnamese tone marks are drawn whole in every kind of row
 *
 * Under the cairo renderer (the ui tests disable OpenGL, as an old laptop lacks it) "Nguyễn"
 * was drawn "Nguyên": medium hinting, GTK's default without a settings daemon, flattened the
 * tilde above the circumflex into one row of pixels. For each kind of row the window shows a
 * name in (a list cell, a unit in the tree or its search, a boxed-list row, an editor's title)
 * the test draws the stacked marks at the default font, under a row of capitals that gives the
 * cap height, and compares the pixels above the cap height with the same window drawn without
 * hinting, where nothing is moved, flattened or clipped.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <adwaita.h>

#include "kh-screenshot.h"
#include "kh-text-rendering.h"
#include "kh-unit-row.h"

#define MARKS "Nguyễn ễồầẫặ"
#define CAPS "HHHHH HHHHH"
/* Rows above the text's allocation that are still looked at: a mark may rise above it. */
#define ABOVE 6

typedef GtkWidget *(*MakeRow) (const char *text);

/* A cell of a list page: a GtkInscription in a GtkColumnView with the data-table style. */
static void
cell_setup_cb (GtkSignalListItemFactory *factory,
               GtkListItem              *item,
               gpointer                  data)
{
  GtkWidget *cell = gtk_inscription_new (NULL);

  gtk_inscription_set_text_overflow (GTK_INSCRIPTION (cell), GTK_INSCRIPTION_OVERFLOW_ELLIPSIZE_END);
  gtk_inscription_set_min_chars (GTK_INSCRIPTION (cell), 0);
  gtk_list_item_set_child (item, cell);
}

static void
cell_bind_cb (GtkSignalListItemFactory *factory,
              GtkListItem              *item,
              gpointer                  data)
{
  GtkStringObject *s = gtk_list_item_get_item (item);

  gtk_inscription_set_text (GTK_INSCRIPTION (gtk_list_item_get_child (item)), gtk_string_object_get_string (s));
}

static GtkWidget *
make_list_cell (const char *text)
{
  const char *strings[] = { text, NULL };
  GtkSelectionModel *model = GTK_SELECTION_MODEL (gtk_no_selection_new (G_LIST_MODEL (gtk_string_list_new (strings))));
  GtkWidget *view = gtk_column_view_new (model);
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  GtkColumnViewColumn *column;

  g_signal_connect (factory, "setup", G_CALLBACK (cell_setup_cb), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (cell_bind_cb), NULL);
  column = gtk_column_view_column_new ("Họ và tên", factory);
  gtk_column_view_column_set_fixed_width (column, 240);
  gtk_column_view_append_column (GTK_COLUMN_VIEW (view), column);
  g_object_unref (column);
  gtk_widget_add_css_class (view, "data-table");
  return view;
}

/* A unit in the tree or in its search results. */
static GtkWidget *
make_unit_row (const char *text)
{
  GtkWidget *list = gtk_list_box_new ();
  GtkWidget *row = kh_unit_row_new ();

  kh_unit_row_set_title (KH_UNIT_ROW (row), text);
  kh_unit_row_set_detail (KH_UNIT_ROW (row), "Xa 26023");
  gtk_list_box_append (GTK_LIST_BOX (list), row);
  return list;
}

/* A row of a boxed list, as the record's history, the Overview and the preferences show. */
static GtkWidget *
make_action_row (const char *text)
{
  GtkWidget *list = gtk_list_box_new ();
  GtkWidget *row = adw_action_row_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), text);
  gtk_list_box_append (GTK_LIST_BOX (list), row);
  gtk_widget_add_css_class (list, "boxed-list");
  return list;
}

/* An editor's title in its header bar. */
static GtkWidget *
make_editor_title (const char *text)
{
  GtkWidget *header = adw_header_bar_new ();

  adw_header_bar_set_title_widget (ADW_HEADER_BAR (header), adw_window_title_new (text, "Ca nhan"));
  adw_header_bar_set_show_end_title_buttons (ADW_HEADER_BAR (header), FALSE);
  return header;
}

/* The widget under @root that draws @text. */
static GtkWidget *
find_text_widget (GtkWidget  *root,
                  const char *text)
{
  if (GTK_IS_LABEL (root) && g_strcmp0 (gtk_label_get_text (GTK_LABEL (root)), text) == 0)
    return root;
  if (GTK_IS_INSCRIPTION (root) && g_strcmp0 (gtk_inscription_get_text (GTK_INSCRIPTION (root)), text) == 0)
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child (root); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_text_widget (c, text);

      if (found != NULL)
        return found;
    }
  return NULL;
}

typedef struct
{
  guchar *pixels;
  gsize   stride;
  int     width;
  int     height;
} Image;

/* How far the pixel at @x, @y is from @bg, 0 to 765. */
static int
ink_at (const Image  *img,
        int           x,
        int           y,
        const guchar *bg)
{
  const guchar *p;
  int d = 0;

  if (x < 0 || y < 0 || x >= img->width || y >= img->height)
    return 0;
  p = img->pixels + y * img->stride + x * 4;
  for (int c = 0; c < 3; c++)
    d += ABS ((int) p[c] - (int) bg[c]);
  return d;
}

/* The ink of each row from @y0 to @y1 (excluded), between @x0 and @x1, against the colour
 * most of the area has (the background: text is thin). */
static double *
row_ink (const Image *img,
         int          x0,
         int          x1,
         int          y0,
         int          y1)
{
  double *rows = g_new0 (double, y1 - y0);
  g_autoptr(GHashTable) counts = g_hash_table_new (NULL, NULL);
  guint32 bg_key = 0;
  guint best = 0;
  guchar bg[4];

  for (int y = MAX (y0, 0); y < MIN (y1, img->height); y++)
    for (int x = MAX (x0, 0); x < MIN (x1, img->width); x++)
      {
        guint32 key = *(guint32 *) (img->pixels + y * img->stride + x * 4);
        guint n = GPOINTER_TO_UINT (g_hash_table_lookup (counts, GUINT_TO_POINTER (key))) + 1;

        g_hash_table_insert (counts, GUINT_TO_POINTER (key), GUINT_TO_POINTER (n));
        if (n > best)
          {
            best = n;
            bg_key = key;
          }
      }
  memcpy (bg, &bg_key, 4);
  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++)
      rows[y - y0] += ink_at (img, x, y, bg);
  return rows;
}

/* The first row whose ink reaches a fifth of the heaviest row's: the top of the capitals. */
static int
first_inked_row (const double *rows,
                 int           n)
{
  double max = 0;

  for (int i = 0; i < n; i++)
    max = MAX (max, rows[i]);
  for (int i = 0; i < n; i++)
    if (rows[i] >= max / 5)
      return i;
  return n;
}

static void
render_window (GtkWidget *window,
               Image     *img,
               gboolean   save)
{
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  GtkSnapshot *snapshot;
  int width = gtk_widget_get_width (window);
  int height = gtk_widget_get_height (window);

  paintable = gtk_widget_paintable_new (window);
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  g_assert_nonnull (node);
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (window)), node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  img->width = gdk_texture_get_width (texture);
  img->height = gdk_texture_get_height (texture);
  img->stride = img->width * 4;
  img->pixels = g_malloc (img->stride * img->height);
  gdk_texture_download (texture, img->pixels, img->stride);
  if (save && g_getenv ("KH_SCREENSHOT_DIR") != NULL)
    {
      g_autofree char *name = g_strdup_printf ("tone-marks-%s.png", strrchr (g_test_get_path (), '/') + 1);
      g_autofree char *path = g_build_filename (g_getenv ("KH_SCREENSHOT_DIR"), name, NULL);

      g_mkdir_with_parents (g_getenv ("KH_SCREENSHOT_DIR"), 0755);
      gdk_texture_save_to_png (texture, path);
    }
}

/* The pixels of @img between rows @y0 and @y1 and columns @x0 and @x1 against those of @ref:
 * how far apart they are, over the ink @ref has there. */
static double
difference (const Image *img,
               const Image *ref,
               int          x0,
               int          x1,
               int          y0,
            int          y1)
{
  g_autofree double *ref_rows = row_ink (ref, x0, x1, y0, y1);
  double diff = 0, ink = 0;

  for (int y = MAX (y0, 0); y < MIN (y1, img->height); y++)
    {
      ink += ref_rows[y - y0];
      for (int x = MAX (x0, 0); x < MIN (x1, img->width); x++)
        diff += ink_at (img, x, y, ref->pixels + y * ref->stride + x * 4);
    }
  g_assert_cmpfloat (ink, >, 0);
  return diff / ink;
}

static void
test_marks (gconstpointer data)
{
  MakeRow make = (MakeRow) data;
  GtkWidget *window = gtk_window_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 24);
  GtkWidget *caps_row = make (CAPS), *marks_row = make (MARKS);
  GtkSettings *settings = gtk_settings_get_for_display (gtk_widget_get_display (window));
  g_autofree char *style = NULL;
  g_autofree double *caps = NULL;
  GtkWidget *caps_text, *marks_text;
  graphene_rect_t cb, mb;
  Image img, ref;
  int cap_top, x0, x1;
  double diff;

  gtk_widget_set_margin_top (box, 24);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_box_append (GTK_BOX (box), caps_row);
  gtk_box_append (GTK_BOX (box), marks_row);
  gtk_window_set_child (GTK_WINDOW (window), box);
  gtk_window_set_default_size (GTK_WINDOW (window), 420, 240);
  gtk_window_present (GTK_WINDOW (window));
  kh_widget_wait_for_paint (window, 2);

  caps_text = find_text_widget (caps_row, CAPS);
  marks_text = find_text_widget (marks_row, MARKS);
  g_assert_nonnull (caps_text);
  g_assert_nonnull (marks_text);
  g_assert_true (gtk_widget_compute_bounds (caps_text, window, &cb));
  g_assert_true (gtk_widget_compute_bounds (marks_text, window, &mb));
  /* The same kind of row twice, so both texts sit at the same height in their widgets. */
  g_assert_cmpfloat (cb.size.height, ==, mb.size.height);

  render_window (window, &img, TRUE);
  g_object_get (settings, "gtk-xft-hintstyle", &style, NULL);
  g_object_set (settings, "gtk-xft-hintstyle", "hintnone", NULL);
  kh_widget_wait_for_paint (window, 2);
  render_window (window, &ref, FALSE);
  g_object_set (settings, "gtk-xft-hintstyle", style, NULL);

  /* The cap height, from the top of the capitals' widget, unhinted. */
  x0 = (int) cb.origin.x;
  x1 = (int) (cb.origin.x + MIN (cb.size.width, 240));
  caps = row_ink (&ref, x0, x1, (int) cb.origin.y, (int) (cb.origin.y + cb.size.height));
  cap_top = first_inked_row (caps, (int) cb.size.height);
  g_assert_cmpint (cap_top, <, (int) cb.size.height);

  /* What is above it in the marks' widget, and the rows over the widget a mark may reach. */
  x0 = (int) mb.origin.x;
  x1 = (int) (mb.origin.x + MIN (mb.size.width, 240));
  diff = difference (&img, &ref, x0, x1, (int) mb.origin.y - ABOVE, (int) mb.origin.y + cap_top);
  g_test_message ("above the cap height (%s): %.3f of the unhinted ink differs", style, diff);
  /* Measured with Noto Sans at 10 pt: slight hinting, which moves a mark by a row at most,
   * differs by 0.3 to 0.45 (1.06 in bold); medium hinting, which flattened the tilde of ễ and
   * the grave of ồ, by 1.5 to 2.2. */
  g_assert_cmpfloat (diff, <, 1.3);

  g_free (img.pixels);
  g_free (ref.pixels);
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GtkCssProvider) css = NULL;

  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  css = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (css, "/vn/khuyenhoc/KhuyenHoc/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  /* What the window does when it opens. */
  kh_text_rendering_setup (gdk_display_get_default ());

  g_test_add_data_func ("/ui/tone-marks/list-cell", make_list_cell, test_marks);
  g_test_add_data_func ("/ui/tone-marks/unit-row", make_unit_row, test_marks);
  g_test_add_data_func ("/ui/tone-marks/action-row", make_action_row, test_marks);
  g_test_add_data_func ("/ui/tone-marks/editor-title", make_editor_title, test_marks);
  return g_test_run ();
}
