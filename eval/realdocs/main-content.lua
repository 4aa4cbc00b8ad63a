-- Keep only the main content of a documentation HTML page before converting
-- it to an office/e-book format: for Sphinx pages the <div class="body">,
-- and for DocBook pages everything except the navheader/navfooter blocks;
-- Sphinx permalink anchors are dropped.
local function is_body(el)
  return el.t == 'Div' and el.classes:includes('body')
end
local found = nil
local function find(blocks)
  for _, b in ipairs(blocks) do
    if found then return end
    if is_body(b) then found = b; return end
    if b.t == 'Div' or b.t == 'BlockQuote' then find(b.content) end
  end
end
return {
  {
    Div = function(d)
      if d.classes:includes('navheader') or d.classes:includes('navfooter') then
        return {}
      end
    end,
    Link = function(l)
      -- Sphinx permalink anchors (the pilcrow after each heading)
      if l.classes:includes('headerlink') then return {} end
    end,
  },
  {
    Pandoc = function(doc)
      find(doc.blocks)
      if found then doc.blocks = found.content end
      return doc
    end,
  },
}
