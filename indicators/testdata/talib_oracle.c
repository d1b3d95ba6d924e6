/*
 * talib_oracle: TA-Lib C's values of one function, for
 * TestPriceFuncsMatchTALibC (TICKFLOW_TALIB_ORACLE=path/to/talib_oracle).
 *
 *   talib_oracle FUNC [PARAM...] < bars
 *
 * reads lines "open,high,low,close,volume" and prints one line per bar: the
 * outputs (comma-separated, %.17g, which round-trips a float64) or "-" where
 * TA-Lib defines none.
 *
 * Build (TA-Lib C's source ships in the npm package talib 2.0.5, src/lib):
 *   npm pack talib@2.0.5 && tar xzf talib-2.0.5.tgz && cd package/src/lib
 *   rm -f temp/csr/*.o lib/*.a      # prebuilt Mach-O objects
 *   (cd make/csr/linux/g++ && make)
 *   g++ -fpermissive -O2 -w -Iinclude talib_oracle.c -o talib_oracle \
 *       lib/libta_abstract_csr.a lib/libta_func_csr.a lib/libta_common_csr.a -lm
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ta_libc.h"
#define MAXN 400000
static double o[MAXN],h[MAXN],l[MAXN],c[MAXN],v[MAXN],r1[MAXN],r2[MAXN];
int main(int argc,char**argv){
  int n=0; char line[512];
  while(fgets(line,sizeof line,stdin)&&n<MAXN){
    if(sscanf(line,"%lf,%lf,%lf,%lf,%lf",&o[n],&h[n],&l[n],&c[n],&v[n])==5)n++;
  }
  TA_Initialize();
  const char*f=argv[1]; int p[4]={0}; double d[4]={0};
  for(int i=2;i<argc&&i<6;i++){p[i-2]=atoi(argv[i]);d[i-2]=atof(argv[i]);}
  int beg=0,nb=0,outs=1; TA_RetCode rc=TA_BAD_PARAM; int e=n-1;
  if(!strcmp(f,"ATR"))rc=TA_ATR(0,e,h,l,c,p[0],&beg,&nb,r1);
  else if(!strcmp(f,"NATR"))rc=TA_NATR(0,e,h,l,c,p[0],&beg,&nb,r1);
  else if(!strcmp(f,"TRANGE"))rc=TA_TRANGE(0,e,h,l,c,&beg,&nb,r1);
  else if(!strcmp(f,"ADX"))rc=TA_ADX(0,e,h,l,c,p[0],&beg,&nb,r1);
  else if(!strcmp(f,"ADXR"))rc=TA_ADXR(0,e,h,l,c,p[0],&beg,&nb,r1);
  else if(!strcmp(f,"PLUS_DI"))rc=TA_PLUS_DI(0,e,h,l,c,p[0],&beg,&nb,r1);
  else if(!strcmp(f,"MINUS_DI"))rc=TA_MINUS_DI(0,e,h,l,c,p[0],&beg,&nb,r1);
  else if(!strcmp(f,"DX"))rc=TA_DX(0,e,h,l,c,p[0],&beg,&nb,r1);
  else if(!strcmp(f,"CCI"))rc=TA_CCI(0,e,h,l,c,p[0],&beg,&nb,r1);
  else if(!strcmp(f,"MFI"))rc=TA_MFI(0,e,h,l,c,v,p[0],&beg,&nb,r1);
  else if(!strcmp(f,"OBV"))rc=TA_OBV(0,e,c,v,&beg,&nb,r1);
  else if(!strcmp(f,"AD"))rc=TA_AD(0,e,h,l,c,v,&beg,&nb,r1);
  else if(!strcmp(f,"ADOSC"))rc=TA_ADOSC(0,e,h,l,c,v,p[0],p[1],&beg,&nb,r1);
  else if(!strcmp(f,"ROC"))rc=TA_ROC(0,e,c,p[0],&beg,&nb,r1);
  else if(!strcmp(f,"ROCP"))rc=TA_ROCP(0,e,c,p[0],&beg,&nb,r1);
  else if(!strcmp(f,"MOM"))rc=TA_MOM(0,e,c,p[0],&beg,&nb,r1);
  else if(!strcmp(f,"WILLR"))rc=TA_WILLR(0,e,h,l,c,p[0],&beg,&nb,r1);
  else if(!strcmp(f,"AROON")){rc=TA_AROON(0,e,h,l,p[0],&beg,&nb,r1,r2);outs=2;}
  else if(!strcmp(f,"AROONOSC"))rc=TA_AROONOSC(0,e,h,l,p[0],&beg,&nb,r1);
  else if(!strcmp(f,"ULTOSC"))rc=TA_ULTOSC(0,e,h,l,c,p[0],p[1],p[2],&beg,&nb,r1);
  else if(!strcmp(f,"BOP"))rc=TA_BOP(0,e,o,h,l,c,&beg,&nb,r1);
  else if(!strcmp(f,"MEDPRICE"))rc=TA_MEDPRICE(0,e,h,l,&beg,&nb,r1);
  else if(!strcmp(f,"TYPPRICE"))rc=TA_TYPPRICE(0,e,h,l,c,&beg,&nb,r1);
  else if(!strcmp(f,"LINEARREG"))rc=TA_LINEARREG(0,e,c,p[0],&beg,&nb,r1);
  else if(!strcmp(f,"LINEARREG_SLOPE"))rc=TA_LINEARREG_SLOPE(0,e,c,p[0],&beg,&nb,r1);
  else if(!strcmp(f,"LINEARREG_ANGLE"))rc=TA_LINEARREG_ANGLE(0,e,c,p[0],&beg,&nb,r1);
  else if(!strcmp(f,"LINEARREG_INTERCEPT"))rc=TA_LINEARREG_INTERCEPT(0,e,c,p[0],&beg,&nb,r1);
  else if(!strcmp(f,"SAR"))rc=TA_SAR(0,e,h,l,d[0],d[1],&beg,&nb,r1);
  else if(!strcmp(f,"MIDPOINT"))rc=TA_MIDPOINT(0,e,c,p[0],&beg,&nb,r1);
  else if(!strcmp(f,"MIDPRICE"))rc=TA_MIDPRICE(0,e,h,l,p[0],&beg,&nb,r1);
  else if(!strcmp(f,"MAX"))rc=TA_MAX(0,e,c,p[0],&beg,&nb,r1);
  else if(!strcmp(f,"MIN"))rc=TA_MIN(0,e,c,p[0],&beg,&nb,r1);
  else {fprintf(stderr,"unknown %s\n",f);return 2;}
  if(rc!=TA_SUCCESS){fprintf(stderr,"%s: rc %d\n",f,rc);return 1;}
  for(int i=0;i<n;i++){
    if(i<beg||i>=beg+nb){printf("-\n");continue;}
    if(outs==1)printf("%.17g\n",r1[i-beg]); else printf("%.17g,%.17g\n",r1[i-beg],r2[i-beg]);
  }
  return 0;
}
