/* analyzer/symbolize.c - placeholder (module+offset only); replaced by the libdw backend. */
#include <stdlib.h>

#include "symbolize.h"

struct sla_symbolizer {
	enum sla_symbolizer_mode mode;
};

struct sla_symbolizer *sla_symbolizer_new(enum sla_symbolizer_mode mode)
{
	struct sla_symbolizer *sym = calloc(1, sizeof(*sym));

	if (sym)
		sym->mode = mode;
	return sym;
}

void sla_symbolizer_free(struct sla_symbolizer *sym)
{
	free(sym);
}

size_t sla_symbolize(struct sla_symbolizer *sym, const struct sla_module *mod, uint64_t address,
		     bool is_return_address, struct sla_frame *out, size_t max)
{
	(void)sym;
	(void)is_return_address;
	if (max == 0)
		return 0;
	out[0] = (struct sla_frame){
		.address = address,
		.module = mod ? mod->path : NULL,
		.offset = mod ? address - mod->bias : address,
	};
	return 1;
}
