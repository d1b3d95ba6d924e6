/*
 * oracle runs one TA-Lib C function over bars read from stdin, for the tests
 * in talibc_test.go (both indicator families, and the golden files):
 *
 *     oracle FUNC [ARG...] < bars
 *
 * FUNC is TA-Lib's name (MACD, STOCH, ATR, ...): the function is found
 * through TA-Lib's abstract interface, so any TA-Lib function runs, fed the
 * bar's prices where it takes a price and the close where it takes a real.
 * ARGs are its optional inputs in TA-Lib's order (moving-average types as
 * numbers). Each input line is
 * "open high low close volume". The first output line is "BEGIDX N", TA-Lib's
 * first output index and count; then one line per output bar with the
 * outputs in TA-Lib's order, printed exactly (%.17g).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ta_libc.h"

static void fail(const char *what, int code)
{
	fprintf(stderr, "oracle: %s: TA-Lib error %d\n", what, code);
	exit(1);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: oracle FUNC [ARG...] < bars\n");
		return 2;
	}
	TA_RetCode rc = TA_Initialize();
	if (rc != TA_SUCCESS)
		fail("initialize", rc);

	size_t n = 0, cap = 1024;
	double *col[5];
	for (int j = 0; j < 5; j++)
		col[j] = (double *)malloc(cap * sizeof(double));
	double v[5];
	while (scanf("%lf %lf %lf %lf %lf", &v[0], &v[1], &v[2], &v[3], &v[4]) == 5) {
		if (n == cap) {
			cap *= 2;
			for (int j = 0; j < 5; j++)
				col[j] = (double *)realloc(col[j], cap * sizeof(double));
		}
		for (int j = 0; j < 5; j++)
			col[j][n] = v[j];
		n++;
	}
	if (n == 0) {
		fprintf(stderr, "oracle: no bars on stdin\n");
		return 2;
	}

	const TA_FuncHandle *h;
	if ((rc = TA_GetFuncHandle(argv[1], &h)) != TA_SUCCESS)
		fail(argv[1], rc);
	const TA_FuncInfo *info;
	if ((rc = TA_GetFuncInfo(h, &info)) != TA_SUCCESS)
		fail("function info", rc);
	TA_ParamHolder *p;
	if ((rc = TA_ParamHolderAlloc(h, &p)) != TA_SUCCESS)
		fail("param holder", rc);

	for (unsigned i = 0; i < info->nbInput; i++) {
		const TA_InputParameterInfo *in;
		TA_GetInputParameterInfo(h, i, &in);
		if (in->type == TA_Input_Price)
			rc = TA_SetInputParamPricePtr(p, i, col[0], col[1], col[2], col[3], col[4], NULL);
		else
			rc = TA_SetInputParamRealPtr(p, i, col[3]);
		if (rc != TA_SUCCESS)
			fail("input", rc);
	}
	for (unsigned i = 0; i < info->nbOptInput && (int)i+2 < argc; i++) {
		const TA_OptInputParameterInfo *opt;
		TA_GetOptInputParameterInfo(h, i, &opt);
		if (opt->type == TA_OptInput_RealRange || opt->type == TA_OptInput_RealList)
			rc = TA_SetOptInputParamReal(p, i, atof(argv[i + 2]));
		else
			rc = TA_SetOptInputParamInteger(p, i, atoi(argv[i + 2]));
		if (rc != TA_SUCCESS)
			fail(opt->paramName, rc);
	}
	double *out[3];
	for (unsigned i = 0; i < info->nbOutput && i < 3; i++) {
		out[i] = (double *)calloc(n, sizeof(double));
		if ((rc = TA_SetOutputParamRealPtr(p, i, out[i])) != TA_SUCCESS)
			fail("output", rc);
	}
	TA_Integer beg, count;
	if ((rc = TA_CallFunc(p, 0, (TA_Integer)n - 1, &beg, &count)) != TA_SUCCESS)
		fail("call", rc);
	printf("%d %d\n", beg, count);
	for (TA_Integer k = 0; k < count; k++) {
		for (unsigned i = 0; i < info->nbOutput && i < 3; i++)
			printf(i ? " %.17g" : "%.17g", out[i][k]);
		printf("\n");
	}
	TA_ParamHolderFree(p);
	TA_Shutdown();
	return 0;
}
