CREATE SEQUENCE public.s AS integer START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1 OWNED BY public.accounts.id;
ALTER TABLE ONLY public.accounts ALTER COLUMN id SET DEFAULT nextval('public.s'::regclass);
ALTER TABLE ONLY public.accounts ADD CONSTRAINT accounts_pkey PRIMARY KEY (id);
ALTER TABLE public.accounts OWNER TO app;
COMMENT ON COLUMN public.accounts.meta IS E'free\nform';
CREATE INDEX CONCURRENTLY IF NOT EXISTS ix ON public.accounts USING btree (lower(e::text)) WHERE balance > 0;
CREATE OR REPLACE FUNCTION public.f(a int) RETURNS int LANGUAGE plpgsql AS $fn$
BEGIN RETURN a + 1; -- ; inside
END $fn$;
CREATE VIEW public.v AS SELECT id, balance::text AS b, $$lit$$ AS l FROM public.accounts WHERE id = $1;
CREATE MATERIALIZED VIEW public.mv AS SELECT count(*) FROM public.accounts WITH NO DATA;
COPY public.accounts (id) FROM stdin;
1
2
\.
\connect other
SELECT pg_catalog.set_config('search_path', '', false);
