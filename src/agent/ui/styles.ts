/**
 * The dialogs' and the notice's CSS, inside their shadow roots. Theme through custom properties on
 * any ancestor (`:root { --ferry-accent: #7b2cbf }`): --ferry-font, --ferry-fg, --ferry-muted,
 * --ferry-bg, --ferry-surface, --ferry-border, --ferry-accent, --ferry-accent-fg, --ferry-danger,
 * --ferry-radius, --ferry-z.
 */
export const STYLES = `
:host{all:initial}
*{box-sizing:border-box}
.ui{font:var(--ferry-font,15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif);color:var(--ferry-fg,#1d2433)}
dialog{padding:0;border:1px solid var(--ferry-border,#c3cad6);border-radius:var(--ferry-radius,12px);background:var(--ferry-bg,#fff);width:min(36rem,calc(100vw - 2rem));max-height:calc(100vh - 2rem);box-shadow:0 18px 50px rgba(16,24,40,.28)}
dialog::backdrop{background:rgba(16,22,34,.5)}
.pad{padding:1.25rem 1.4rem}
h2{font-size:1.2rem;margin:0 0 .4rem;line-height:1.3}
p{margin:.4rem 0 .8rem}
.muted{color:var(--ferry-muted,#4b5568)}
label{display:block;font-weight:600;margin:.7rem 0 .25rem}
.hint{display:block;font-weight:400;font-size:.88em;color:var(--ferry-muted,#4b5568)}
textarea,input[type=email]{font:inherit;width:100%;padding:.45rem .6rem;border:1px solid var(--ferry-border,#9aa4b5);border-radius:calc(var(--ferry-radius,12px)/2);background:var(--ferry-surface,#fff);color:inherit}
textarea{min-height:5.5rem;resize:vertical}
fieldset{border:1px solid var(--ferry-border,#c3cad6);border-radius:calc(var(--ferry-radius,12px)/2);margin:.9rem 0 .4rem;padding:.4rem .8rem .6rem}
legend{font-weight:600;padding:0 .3rem}
.check{display:flex;gap:.5rem;align-items:center;font-weight:400;margin:.25rem 0}
.check label{display:inline;font-weight:400;margin:0}
.check input{margin:0;width:1rem;height:1rem;accent-color:var(--ferry-accent,#1f5fbf)}
output{display:block;margin:.3rem 0 0;font-size:.92em;color:var(--ferry-muted,#4b5568)}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;justify-content:flex-end;margin-top:1.1rem}
.actions.start{justify-content:flex-start}
.by{font-size:.92em;color:var(--ferry-muted,#4b5568);margin:1rem 0 0}
button{font:inherit;font-weight:600;padding:.45rem 1rem;border-radius:calc(var(--ferry-radius,12px)/2);border:1px solid var(--ferry-border,#9aa4b5);background:var(--ferry-surface,#f4f6fa);color:var(--ferry-fg,#1d2433);cursor:pointer}
button:hover{filter:brightness(.96)}
button.primary{background:var(--ferry-accent,#1f5fbf);border-color:var(--ferry-accent,#1f5fbf);color:var(--ferry-accent-fg,#fff)}
button:disabled{opacity:.55;cursor:default}
:focus-visible{outline:3px solid var(--ferry-accent,#1f5fbf);outline-offset:2px}
progress{width:100%;height:.7rem;accent-color:var(--ferry-accent,#1f5fbf)}
.error{border-left:4px solid var(--ferry-danger,#b42318);padding:.2rem 0 .2rem .8rem;margin:.6rem 0}
details{margin:.6rem 0;font-size:.88em}
details code{display:block;white-space:pre-wrap;word-break:break-word;background:var(--ferry-surface,#f4f6fa);padding:.5rem;border-radius:6px;margin-top:.3rem}
a{color:var(--ferry-accent,#1f5fbf)}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.notice{position:fixed;right:1rem;bottom:1rem;z-index:var(--ferry-z,2147483000);max-width:min(26rem,calc(100vw - 2rem));background:var(--ferry-bg,#fff);border:1px solid var(--ferry-border,#c3cad6);border-left:5px solid var(--ferry-danger,#b42318);border-radius:var(--ferry-radius,12px);box-shadow:0 10px 30px rgba(16,24,40,.22);padding:.8rem 2.6rem .8rem 1rem}
.notice p{margin:0 0 .5rem;font-weight:600}
.notice .actions{justify-content:flex-start;margin-top:.3rem}
.notice button{font-size:.9em;padding:.35rem .7rem}
.notice .x{position:absolute;top:.4rem;right:.4rem;padding:.15rem .5rem;border:0;background:transparent;font-size:1.2rem;line-height:1}
`;
