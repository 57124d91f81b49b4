import { readFileSync } from 'node:fs';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/** The package's public entry points (exports with types), as the sources they are compiled from. */
function entrySources(): Array<[string, string]> {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
  return Object.entries(pkg.exports as Record<string, string | { types?: string }>)
    .filter((entry): entry is [string, { types: string }] => typeof entry[1] === 'object' && typeof entry[1].types === 'string')
    .map(([subpath, { types }]) => [subpath, types.replace(/^\.\/dist\//, 'src/').replace(/\.d\.ts$/, '.ts')]);
}

describe('the public entry points', () => {
  const entries = entrySources();
  const program = ts.createProgram(
    entries.map(([, source]) => source),
    { allowImportingTsExtensions: true, noEmit: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, strict: true, skipLibCheck: true },
  );
  const checker = program.getTypeChecker();

  it('are the library and the client', () => {
    expect(entries.map(([subpath]) => subpath)).toEqual(['.', './client']);
  });

  it.each(entries)('%s: every export has a doc comment', (_subpath, source) => {
    const module = checker.getSymbolAtLocation(program.getSourceFile(source)!)!;
    const exported = checker.getExportsOfModule(module);
    expect(exported.length).toBeGreaterThan(0);
    const undocumented = exported
      .filter((symbol) => {
        const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
        return target.getDocumentationComment(checker).length === 0;
      })
      .map((symbol) => symbol.name);
    expect(undocumented).toEqual([]);
  });
});
