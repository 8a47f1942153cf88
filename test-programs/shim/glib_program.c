/*
 * glib_program.c - a clean GLib/GObject program: a hash table, GSlice
 * lists, a GObject, every one freed.
 *
 * Expected under the shim: nothing leaked (unreachable) and, with the
 * default suppressions, nothing still referenced either: what GLib keeps to
 * the end (GSlice magazines, quarks, the type system) is the runtime's.
 * Prints "ok 100", exit 0.
 */
#include <glib-object.h>
#include <glib.h>

int main(void)
{
	GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	GSList *l = NULL;
	GObject *o;

	for (int i = 0; i < 100; i++)
		g_hash_table_insert(h, g_strdup_printf("k%d", i), g_strdup("v"));
	for (int i = 0; i < 50; i++)
		l = g_slist_prepend(l, GINT_TO_POINTER(i));
	g_slist_free(l);
	o = g_object_new(G_TYPE_OBJECT, NULL);
	g_object_unref(o);
	g_print("ok %u\n", g_hash_table_size(h));
	g_hash_table_destroy(h);
	return 0;
}
