/*
 * sample - a header for check_verdict.py's own tests; never compiled.
 * testdata/sample_report.json is a hand-written report of
 * "sample leaky 4 4096" that satisfies it: 4 blocks of 48 + 4096 bytes
 * pinned by 5-byte views.
 *
 * PARAMS: count=1000 size=1048576
 * DEFINE: typelen=5
 * EXPECT leaky: findings=1
 * EXPECT leaky: finding blocks=count views=count used_bytes=count*typelen \
 *	block_bytes~count*size retained_bytes~count*(size-typelen) \
 *	view_function=keep_type view_site=prefix alloc_function=receive alloc_site=msg
 * EXPECT leaky: leak function=receive blocks=count bytes~count*size
 * EXPECT leaky: peak function=receive blocks>=count
 * EXPECT *: hotspot function=receive allocations=count
 * EXPECT *: totals allocations>=count frees>=0
 * EXPECT copy: findings=0
 * EXPECT copy: leak function=receive blocks=0
 * EXPECT copy: finding view_function=keep_type blocks=0
 * EXPECT leaky: @peak finding view_function=keep_type blocks=count+1
 * PENDING leaky: nothing to say
 */
static sl_slice receive(size_t size)
{
	return sl_make(1, size, size); /* ALLOC-SITE msg */
}

static sl_slice keep_type(sl_slice msg)
{
	return sl_sub(msg, 0, 5); /* VIEW-SITE prefix */
}
