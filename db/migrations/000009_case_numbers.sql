-- Short case numbers people can write on a label (issue 13): Q-<YY>-<6 digits>,
-- e.g. Q-26-004817, at most 12 characters, unique, from one sequence (a seventh
-- digit appears after a million cases, still 12 characters).
CREATE SEQUENCE case_number_seq;

CREATE FUNCTION provenant_case_number(at timestamptz) RETURNS text
  LANGUAGE sql VOLATILE AS $$
  SELECT 'Q-' || to_char(at AT TIME ZONE 'UTC', 'YY') || '-'
    || CASE WHEN s.n < 1000000 THEN lpad(s.n::text, 6, '0') ELSE s.n::text END
  FROM (SELECT nextval('case_number_seq') AS n) s
$$;

ALTER TABLE cases ADD COLUMN case_number text;
UPDATE cases SET case_number = provenant_case_number(created_at);
ALTER TABLE cases ALTER COLUMN case_number SET NOT NULL;
ALTER TABLE cases ADD CONSTRAINT cases_case_number_key UNIQUE (case_number);
ALTER TABLE cases ADD CONSTRAINT cases_case_number_check CHECK (char_length(case_number) <= 12);
