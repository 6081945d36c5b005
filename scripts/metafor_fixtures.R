# Reference outputs of R metafor for kbone's meta-analysis tests.
#
#   Rscript scripts/metafor_fixtures.R [OUTDIR]      (default: tests/fixtures/metafor)
#
# Writes escalc.json, rma.json, mh.json and analyses.json: each case holds the input data (so the Python
# tests need neither R nor metadat) and metafor's results. Needs Debian r-cran-metafor + r-cran-metadat;
# no other R package. Re-run after a metafor upgrade and commit the JSON; the tests also run this script
# live (one Rscript call per test module) when R is present.
suppressMessages(library(metafor))

args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1) args[1] else file.path("tests", "fixtures", "metafor")
dir.create(outdir, showWarnings = FALSE, recursive = TRUE)

# ---- a minimal JSON writer (numbers with 17 significant digits; NA -> null) -----------------------
arr <- function(x) structure(list(v = x), class = "jarray")
tojson <- function(x) {
  if (is.null(x)) return("null")
  if (inherits(x, "jarray")) {
    v <- x$v
    if (length(v) == 0) return("[]")
    return(paste0("[", paste(vapply(seq_along(v), function(i) tojson(v[[i]]), ""), collapse = ","), "]"))
  }
  if (is.list(x)) {
    if (!is.null(names(x))) {
      items <- vapply(names(x), function(n) paste0("\"", n, "\":", tojson(x[[n]])), "")
      return(paste0("{", paste(items, collapse = ","), "}"))
    }
    return(paste0("[", paste(vapply(x, tojson, ""), collapse = ","), "]"))
  }
  if (length(x) != 1) return(tojson(arr(as.list(x))))
  if (is.na(x)) return("null")
  if (is.logical(x)) return(if (x) "true" else "false")
  if (is.numeric(x)) {
    if (!is.finite(x)) return("null")
    return(formatC(x, digits = 17, format = "g"))
  }
  paste0("\"", gsub("\"", "\\\\\"", as.character(x)), "\"")
}
write_json <- function(obj, name) {
  writeLines(tojson(obj), file.path(outdir, name))
}
num <- function(x) arr(as.list(as.numeric(x)))

meta <- list(metafor = as.character(packageVersion("metafor")), R = R.version.string,
             generated_by = "scripts/metafor_fixtures.R")

# ---- datasets ---------------------------------------------------------------------------------------
bcg <- dat.bcg
nw <- dat.nielweise2007                      # zero cells and one double-zero study (Yucel 2004)
hine <- dat.hine1989                         # tau^2 = 0 under every estimator
yus <- dat.yusuf1985[dat.yusuf1985$table == "6", ]
yus <- yus[complete.cases(yus), ]
col <- dat.collins1985b                      # pre-eclampsia counts (Collins et al. 1985)
col <- data.frame(ai = col$pre.xti, n1i = col$pre.nti, ci = col$pre.xci, n2i = col$pre.nci, year = col$year)
col <- col[complete.cases(col), ]
nor <- dat.normand1999
hack <- dat.hackshaw1998

counts <- function(d) list(ai = num(d$ai), bi = num(d$n1i - d$ai), ci = num(d$ci), di = num(d$n2i - d$ci))
bcg_counts <- list(ai = num(bcg$tpos), bi = num(bcg$tneg), ci = num(bcg$cpos), di = num(bcg$cneg))

# ---- escalc ------------------------------------------------------------------------------------------
esc <- list()
add_esc <- function(name, measure, input, e, opts) {
  esc[[length(esc) + 1]] <<- list(name = name, measure = measure, options = opts, input = input,
                                   yi = num(e$yi), vi = num(e$vi))
}
for (m in c("OR", "RR", "RD", "PETO")) {
  add_esc("bcg", m, bcg_counts, escalc(m, ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg),
          list(add = 0.5, to = "only0", drop00 = FALSE))
  for (to in c("only0", "all", "if0all", "none")) for (d00 in c(FALSE, TRUE)) {
    e <- suppressWarnings(escalc(m, ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = nw, to = to, drop00 = d00))
    add_esc("nielweise2007", m, counts(nw), e, list(add = 0.5, to = to, drop00 = d00))
  }
}
for (m in c("MD", "SMD")) {
  e <- escalc(m, m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = nor)
  add_esc("normand1999", m, list(m1i = num(nor$m1i), sd1i = num(nor$sd1i), n1i = num(nor$n1i),
                                 m2i = num(nor$m2i), sd2i = num(nor$sd2i), n2i = num(nor$n2i)), e, list())
}
write_json(list(meta = meta, cases = esc), "escalc.json")

# ---- rma.uni: every estimator x (z, knha) ----------------------------------------------------------------
sets <- list(
  bcg_RR = escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg),
  bcg_OR = escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg),
  bcg_RD = escalc("RD", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg),
  normand_MD = escalc("MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = nor),
  normand_SMD = escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = nor),
  hackshaw = hack,
  hine_RD_tau0 = escalc("RD", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = hine),
  nielweise_OR = escalc("OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = nw)
)
fitrow <- function(r, method, test, tight) {
  p <- predict(r)
  list(method = method, test = test, tight = tight, k = r$k, beta = as.numeric(r$beta), se = r$se,
       zval = r$zval, pval = r$pval, ci_lb = r$ci.lb, ci_ub = r$ci.ub, tau2 = r$tau2, I2 = r$I2, H2 = r$H2,
       QE = r$QE, QEp = r$QEp, pi_lb = if (is.null(p$pi.lb)) p$ci.lb else p$pi.lb,
       pi_ub = if (is.null(p$pi.ub)) p$ci.ub else p$pi.ub, weights = num(weights(r)))
}
rcases <- list()
for (nm in names(sets)) {
  d <- sets[[nm]]
  fits <- list()
  for (method in c("FE", "DL", "HE", "HS", "SJ", "ML", "REML", "PM")) for (test in c("z", "knha")) {
    r <- rma(yi, vi, data = d, method = method, test = test)
    fits[[length(fits) + 1]] <- fitrow(r, method, test, FALSE)
    if (method %in% c("ML", "REML", "PM")) {
      r <- rma(yi, vi, data = d, method = method, test = test,
               control = list(threshold = 1e-12, tol = 1e-12, maxiter = 1000))
      fits[[length(fits) + 1]] <- fitrow(r, method, test, TRUE)
    }
  }
  rcases[[length(rcases) + 1]] <- list(name = nm, yi = num(d$yi), vi = num(d$vi), fits = fits)
}
write_json(list(meta = meta, cases = rcases), "rma.json")

# ---- Mantel-Haenszel and Peto ------------------------------------------------------------------------------
mh <- list()
add_mh <- function(name, input, measure, r) {
  mh[[length(mh) + 1]] <<- list(
    name = name, measure = measure, input = input, k = r$k, k_yi = r$k.yi, beta = as.numeric(r$beta), se = r$se,
    zval = r$zval, pval = r$pval, ci_lb = r$ci.lb, ci_ub = r$ci.ub, QE = r$QE, QEp = r$QEp, I2 = r$I2, H2 = r$H2,
    MH = if (is.null(r$MH)) NA else r$MH, MHp = if (is.null(r$MHp)) NA else r$MHp,
    TA = if (is.null(r$TA)) NA else r$TA, yi = num(r$yi), vi = num(r$vi))
}
for (m in c("OR", "RR", "RD")) {
  add_mh("bcg", bcg_counts, m, rma.mh(ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg, measure = m))
  add_mh("nielweise2007", counts(nw), m, rma.mh(ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = nw, measure = m))
  add_mh("collins1985b", counts(col), m, rma.mh(ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = col, measure = m))
  add_mh("hine1989", counts(hine), m, rma.mh(ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = hine, measure = m))
}
for (nm in c("yusuf1985_table6", "nielweise2007", "bcg")) {
  d <- switch(nm, yusuf1985_table6 = yus, nielweise2007 = nw,
              bcg = data.frame(ai = bcg$tpos, n1i = bcg$tpos + bcg$tneg, ci = bcg$cpos, n2i = bcg$cpos + bcg$cneg))
  add_mh(nm, counts(d), "PETO", rma.peto(ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = d))
}
write_json(list(meta = meta, cases = mh), "mh.json")

# ---- analyses ---------------------------------------------------------------------------------------------------
an <- list(meta = meta)
d <- sets$bcg_RR
l1 <- function(r) { l <- leave1out(r); list(estimate = num(l$estimate), se = num(l$se), ci_lb = num(l$ci.lb),
                                             ci_ub = num(l$ci.ub), tau2 = num(l$tau2), I2 = num(l$I2), Q = num(l$Q)) }
an$leave1out <- list(
  list(name = "bcg_RR", method = "REML", test = "z", yi = num(d$yi), vi = num(d$vi),
       result = l1(rma(yi, vi, data = d, method = "REML"))),
  list(name = "bcg_RR", method = "DL", test = "knha", yi = num(d$yi), vi = num(d$vi),
       result = l1(rma(yi, vi, data = d, method = "DL", test = "knha"))))
cu <- function(r, ord) { cc <- cumul(r, order = ord); list(order = num(order(ord)), estimate = num(cc$estimate), se = num(cc$se),
                          ci_lb = num(cc$ci.lb), ci_ub = num(cc$ci.ub), tau2 = num(cc$tau2), I2 = num(cc$I2)) }
ordr <- bcg$year
an$cumul <- list(
  list(name = "bcg_RR", method = "REML", test = "z", yi = num(d$yi), vi = num(d$vi), year = num(bcg$year),
       result = cu(rma(yi, vi, data = d, method = "REML"), ordr)),
  list(name = "bcg_RR", method = "FE", test = "z", yi = num(d$yi), vi = num(d$vi), year = num(bcg$year),
       result = cu(rma(yi, vi, data = d, method = "FE"), ordr)))
rt <- function(name, dd, method, model) {
  r <- regtest(rma(yi, vi, data = dd, method = method), model = model)
  list(name = name, method = method, model = model, yi = num(dd$yi), vi = num(dd$vi), zval = r$zval, pval = r$pval,
       dfs = if (is.null(r$dfs)) NA else r$dfs, est = if (is.null(r$est)) NA else r$est,
       ci_lb = if (is.null(r$ci.lb)) NA else r$ci.lb, ci_ub = if (is.null(r$ci.ub)) NA else r$ci.ub)
}
an$regtest <- list(rt("bcg_RR", d, "REML", "rma"), rt("bcg_RR", d, "REML", "lm"), rt("hackshaw", hack, "FE", "lm"),
                   rt("hackshaw", hack, "FE", "rma"), rt("normand_SMD", sets$normand_SMD, "DL", "rma"))
tf <- function(name, dd, method) {
  r <- trimfill(rma(yi, vi, data = dd, method = method))
  list(name = name, method = method, yi = num(dd$yi), vi = num(dd$vi), k0 = r$k0, side = r$side,
       beta = as.numeric(r$beta), se = r$se, ci_lb = r$ci.lb, ci_ub = r$ci.ub, tau2 = r$tau2,
       yi_filled = num(r$yi[r$fill]), vi_filled = num(r$vi[r$fill]))
}
an$trimfill <- list(tf("hackshaw", hack, "FE"), tf("hackshaw", hack, "REML"), tf("bcg_RR", d, "REML"),
                    tf("bcg_RR", d, "DL"), tf("normand_SMD", sets$normand_SMD, "REML"),
                    tf("li2007_OR", escalc("OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat.li2007), "REML"))
sg <- function(method, test) {
  r <- rma(yi, vi, mods = ~ factor(alloc), data = d, method = method, test = test)
  list(name = "bcg_RR_by_alloc", method = method, test = test, yi = num(d$yi), vi = num(d$vi),
       group = arr(as.list(bcg$alloc)), levels = arr(as.list(levels(factor(bcg$alloc)))),
       beta = num(r$beta), se = num(r$se), tau2 = r$tau2, QM = r$QM, QMp = r$QMp, QE = r$QE, QEp = r$QEp, I2 = r$I2)
}
an$mods <- list(sg("REML", "z"), sg("DL", "knha"), sg("FE", "z"))
write_json(an, "analyses.json")
cat("wrote", outdir, "\n")
