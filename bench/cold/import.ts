// Figure 4's middle step: a script that imports the module and does nothing with it.
import "../../mod.ts";
